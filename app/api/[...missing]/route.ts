// Any other path under /api/: a JSON 404 like every other API failure (rather than the HTML not-found page).
export const runtime = 'nodejs';

function notFound(request: Request): Response {
  const { pathname } = new URL(request.url);
  return Response.json({ error: { code: 'not_found', message: `no API endpoint ${pathname}` } }, { status: 404 });
}

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
