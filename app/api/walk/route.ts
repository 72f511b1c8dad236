import { methodNotAllowed, optionalInteger, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const keys = await getLibrary().walk(
    requireString(body, 'from'),
    requireString(body, 'to'),
    optionalInteger(body, 'frames') ?? 8,
  );
  return Response.json({ keys });
});
export const GET = methodNotAllowed('POST');
