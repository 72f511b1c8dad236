import {
  BODY_LIMITS,
  methodNotAllowed,
  readBodyBytes,
  requireContentType,
  route,
  UPLOAD_TYPES,
} from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  requireContentType(request, UPLOAD_TYPES);
  const bytes = await readBodyBytes(request, BODY_LIMITS.upload);
  return Response.json(await getLibrary().importFile(bytes));
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
