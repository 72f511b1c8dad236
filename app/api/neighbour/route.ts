import { methodNotAllowed, optionalInteger, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const stride = body.stride === undefined ? undefined : requireString(body, 'stride');
  const key = await getLibrary().neighbour(requireString(body, 'key'), optionalInteger(body, 'by') ?? 1, stride);
  return Response.json({ key });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
