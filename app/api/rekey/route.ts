import { methodNotAllowed, readJsonObject, requireString, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

// "This picture, but …": {key, prompt} → {key} with the same latent and steps under the new prompt.
export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const key = await getLibrary().rekey(requireString(body, 'key'), requireString(body, 'prompt'));
  return Response.json({ key });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
