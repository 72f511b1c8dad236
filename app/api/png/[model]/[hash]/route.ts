import { HttpError, methodNotAllowed, route } from '../../../../../lib/http.ts';
import { getLibrary } from '../../../../../lib/library.ts';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// A key's image never changes, and the URL names the model files and the key: once a PNG is here it may be cached
// for good by browsers and CDNs. A miss is not cached (the key may be rendered a moment later).
const IMMUTABLE = 'public, max-age=31536000, immutable';

type Params = { params: Promise<{ model: string; hash: string }> };

export const GET = route(async (_request: Request, { params }: Params) => {
  const { model, hash } = await params;
  if (!/^[0-9a-f]{16}$/.test(model) || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new HttpError(404, 'not_found', 'a PNG URL is /api/png/<16 hex: model>/<64 hex: SHA-256 of the key>');
  }
  const png = await getLibrary().cachedPng(model, hash);
  if (!png) {
    throw new HttpError(404, 'not_rendered', 'no PNG of this key here yet: POST /api/render with the key first');
  }
  return new Response(new Uint8Array(png), {
    headers: { 'content-type': 'image/png', 'cache-control': IMMUTABLE, etag: `"${hash}"` },
  });
});
export const POST = methodNotAllowed('GET');
