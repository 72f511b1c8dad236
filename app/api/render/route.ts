import { methodNotAllowed, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const key = requireString(await readJsonObject(request), 'key');
  const png = await getLibrary().render(key);
  return new Response(new Uint8Array(png), { headers: { 'content-type': 'image/png' } });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
