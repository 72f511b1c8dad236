import { methodNotAllowed, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const key = requireString(await readJsonObject(request), 'key');
  const library = getLibrary();
  const png = await library.render(key);
  // Where the same bytes can be fetched with GET and cached for good (a CDN in front, docs/scaling.md).
  const headers = { 'content-type': 'image/png', 'content-location': await library.pngPath(key) };
  return new Response(new Uint8Array(png), { headers });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
