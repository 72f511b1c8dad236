import {
  methodNotAllowed,
  optionalInteger,
  optionalString,
  readJsonObject,
  requireString,
  route,
} from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const key = await getLibrary().search(
    requireString(body, 'prompt'),
    optionalInteger(body, 'seed'),
    optionalString(body, 'negative'),
  );
  return Response.json({ key });
});
export const GET = methodNotAllowed('POST');
