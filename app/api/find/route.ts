import {
  errorResponse,
  methodNotAllowed,
  PICTURE_TYPES,
  readBodyBytes,
  requireContentType,
  route,
} from '../../../lib/http.ts';
import { getLibrary } from '../../../lib/library.ts';
import { PICTURE_LIMITS } from '../../../pipeline/index.ts';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// The picture is the body; `?prompt=` makes the key carry that prompt ("this picture, but …"), `?candidates=N`
// caps the search. The answer is one
// JSON object, or with `Accept: application/x-ndjson` a line per candidate tried ({"progress":{done,total}}) and
// then {"result":…} or {"error":…}, so a page can show how far the search has come.
export const POST = route(async (request) => {
  requireContentType(request, PICTURE_TYPES);
  const bytes = await readBodyBytes(request, PICTURE_LIMITS.maxBytes);
  const query = new URL(request.url).searchParams;
  const prompt = query.get('prompt') ?? undefined;
  const candidates = query.has('candidates') ? Number(query.get('candidates')) : undefined;
  const library = getLibrary();
  if (!(request.headers.get('accept') ?? '').includes('application/x-ndjson')) {
    return Response.json(await library.find(bytes, { prompt, candidates, signal: request.signal }));
  }
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const line = (value: unknown) => controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
      try {
        const result = await library.find(bytes, {
          prompt,
          candidates,
          signal: request.signal,
          onProgress: (done, total) => line({ progress: { done, total } }),
        });
        line({ result });
      } catch (err) {
        const response = errorResponse(err);
        line({ ...(await response.json()), status: response.status });
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8' } });
});
// Every method but POST (Next answers HEAD and OPTIONS itself).
const notAllowed = methodNotAllowed('POST');

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
