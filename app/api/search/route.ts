import {
  methodNotAllowed,
  optionalInteger,
  optionalNumber,
  optionalSeed,
  optionalString,
  readJsonObject,
  requireString,
  route,
} from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';

export const runtime = 'nodejs';

export const POST = route(async (request) => {
  const body = await readJsonObject(request);
  const key = await getLibrary().search(requireString(body, 'prompt'), {
    seed: optionalSeed(body, 'seed'),
    negative: optionalString(body, 'negative'),
    bestOf: optionalInteger(body, 'bestOf'),
    guidance: optionalNumber(body, 'guidance'),
  });
  return Response.json({ key });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
