import { methodNotAllowed, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = route(async () => Response.json({ key: await getLibrary().random() }));
// Every method but GET (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('GET');

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
