import { BODY_LIMITS, methodNotAllowed, readBodyBytes, route } from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const bytes = await readBodyBytes(request, BODY_LIMITS.upload);
  return Response.json(await getLibrary().importFile(bytes));
});
export const GET = methodNotAllowed('POST');
