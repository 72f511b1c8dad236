import { methodNotAllowed, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const key = requireString(await readJsonObject(request), 'key');
  const bytes = await getLibrary().exportGen5(key);
  return new Response(new Uint8Array(bytes), {
    headers: { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="lob.gen5"' },
  });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
