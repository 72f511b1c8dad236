import { methodNotAllowed, optionalInteger, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const key = await getLibrary().search(
    requireString(body, 'prompt'),
    optionalInteger(body, 'seed'),
    optionalInteger(body, 'bestOf'),
  );
  return Response.json({ key });
});
export const GET = methodNotAllowed('POST');
