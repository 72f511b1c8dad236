import { BadRequestError, methodNotAllowed, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// The key travels as its SHA-256: an SD-sized key would not fit in a URL, and the hash is all the lookup needs.
export const GET = route(async (request) => {
  const hash = new URL(request.url).searchParams.get('key') ?? '';
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new BadRequestError('"key" must be the SHA-256 of the key, in lowercase hex');
  return Response.json(await getLibrary().progress(hash));
});
// Every method but GET (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('GET');

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
