import { methodNotAllowed, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = route(async () => Response.json(await getLibrary().modelInfo()));
export const POST = methodNotAllowed('GET');
