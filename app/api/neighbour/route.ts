import { methodNotAllowed, optionalInteger, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const stride = body.stride === undefined ? undefined : requireString(body, 'stride');
  const key = await getLibrary().neighbour(requireString(body, 'key'), optionalInteger(body, 'by') ?? 1, stride);
  return Response.json({ key });
});
export const GET = methodNotAllowed('POST');
