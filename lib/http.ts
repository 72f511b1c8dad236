/**
 * HTTP plumbing for the route handlers: bounded body readers, and one mapping from our typed errors to
 * `{error: {code, message}}` responses with the right status. Route handlers stay thin: parse, call lib/, reply.
 */

/** Explicit request body limits. A JSON body carries at most one key (SD-sized keys are ~190,000 characters). */
export const BODY_LIMITS = {
  json: 1024 * 1024,
  /** A .gen5 file (latents, embeddings and possibly an SD-sized image) or one of our PNGs. */
  upload: 32 * 1024 * 1024,
} as const;

/** An error that already knows its HTTP status and stable machine-readable code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class BodyTooLargeError extends HttpError {
  constructor(limit: number) {
    super(413, 'too_large', `request body is larger than the limit of ${limit} bytes`, { limit });
    this.name = 'BodyTooLargeError';
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
    this.name = 'BadRequestError';
  }
}

/** The body is not of a type the endpoint takes (HTTP 415). */
export class UnsupportedMediaTypeError extends HttpError {
  constructor(accepted: readonly string[], got: string) {
    super(
      415,
      'unsupported_media_type',
      `send the body as ${accepted.join(' or ')} (got ${got || 'no Content-Type'})`,
      {
        accepted,
      },
    );
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** What /api/find takes: the picture's bytes (its format is read from the bytes, not the type). */
export const PICTURE_TYPES = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/svg+xml',
  'application/octet-stream',
] as const;

/** What /api/import takes: a .gen5 file as bytes, or one of our PNGs. */
export const UPLOAD_TYPES = ['application/octet-stream', 'image/png'] as const;

/**
 * Refuses (415) a body whose Content-Type is not one of `accepted`. A plain HTML form on another site can only send
 * form encodings or text/plain without a CORS preflight, so requiring these types keeps such forms from making the
 * server render.
 */
export function requireContentType(request: Request, accepted: readonly string[]): void {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!accepted.includes(type)) throw new UnsupportedMediaTypeError(accepted, type);
}

export interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}

interface Described {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

// Errors from keyspace/, pipeline/ and gen5/ are recognised by name rather than instanceof: Next bundles each
// route separately, so one error class can exist as several copies in one server and instanceof would miss.
function describeError(err: unknown): Described {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...err.details } } };
  }
  const e = err as { name?: unknown; message?: unknown; code?: unknown; index?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  switch (name) {
    case 'KeyError': {
      // keyspace's messages already name the character index; it is also given as a number for programs.
      const index = typeof e?.index === 'number' && e.index >= 0 ? e.index : undefined;
      return { status: 400, body: { error: { code: 'bad_key', message, reason: e?.code, index } } };
    }
    case 'Gen5Error':
    case 'ProvenanceError':
      return { status: 400, body: { error: { code: 'bad_gen5', message, reason: e?.code } } };
    case 'PngFormatError':
      return { status: 400, body: { error: { code: 'bad_png', message } } };
    case 'ImageDecodeError':
      return { status: 400, body: { error: { code: 'bad_image', message } } };
    case 'PictureError': {
      // find's input: too big to take (413), not a picture format it reads (415), or a bad picture (400)
      const status = e?.code === 'too-large' ? 413 : e?.code === 'format' ? 415 : 400;
      return { status, body: { error: { code: 'bad_image', message, reason: e?.code } } };
    }
    case 'RenderInputError':
      return { status: 400, body: { error: { code: 'bad_request', message } } };
    case 'QueueFullError':
      return {
        status: 429,
        body: { error: { code: 'queue_full', message } },
        headers: { 'retry-after': '1' },
      };
    case 'ModelLoadError':
      return { status: 503, body: { error: { code: 'model_not_loaded', message } } };
    // The Redis render queue (lib/queue/, docs/scaling.md).
    case 'RedisUnavailableError':
      return { status: 503, body: { error: { code: 'redis_unavailable', message } }, headers: { 'retry-after': '1' } };
    case 'NoWorkerError':
      return { status: 503, body: { error: { code: 'no_worker', message } }, headers: { 'retry-after': '5' } };
    case 'RenderTimeoutError':
      return { status: 504, body: { error: { code: 'render_timeout', message } } };
    case 'RenderJobFailedError':
      return { status: 502, body: { error: { code: 'render_failed', message } } };
    default:
      return { status: 500, body: { error: { code: 'internal', message: 'internal error; see the server log' } } };
  }
}

export function errorResponse(err: unknown): Response {
  const { status, body, headers } = describeError(err);
  if (status === 500) console.error('[lob] unexpected error:', err);
  return Response.json(body, { status, headers });
}

/** Wraps a route handler so every failure becomes a JSON error response; nothing escapes to crash the server. */
export function route<A extends unknown[]>(
  handler: (request: Request, ...rest: A) => Promise<Response>,
): (request: Request, ...rest: A) => Promise<Response> {
  return async (request, ...rest) => {
    try {
      return await handler(request, ...rest);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * The handler for every method a route does not offer: 405 as JSON, naming the one it does (Next's own 405 is
 * bare). A route exports it under each such name: `export { notAllowed as GET, notAllowed as PUT, … }`.
 */
export function methodNotAllowed(allowed: 'GET' | 'POST'): () => Response {
  return () =>
    Response.json(
      { error: { code: 'method_not_allowed', message: `use ${allowed} for this endpoint` } },
      { status: 405, headers: { allow: allowed } },
    );
}

/** Reads the whole body, refusing (413) as soon as it passes `limit` bytes — before buffering the rest. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a JSON object body (Content-Type application/json, bounded by BODY_LIMITS.json). */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  requireContentType(request, ['application/json']);
  const bytes = await readBodyBytes(request, BODY_LIMITS.json);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new BadRequestError('request body is not valid JSON', 'bad_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('request body must be a JSON object', 'bad_json');
  }
  return value as Record<string, unknown>;
}

export function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestError(`"${field}" must be a non-empty string`);
  }
  return value;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`"${field}" must be a string`);
  return value;
}

export function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new BadRequestError(`"${field}" must be an integer`);
  }
  return value;
}

export function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new BadRequestError(`"${field}" must be a number`);
  return value;
}

const MAX_SEED = 2n ** 64n - 1n;

/**
 * An optional search seed: 0 .. 2^64 − 1, as `lob search --seed` takes. JSON numbers are exact only up to 2^53, so
 * larger seeds come as a decimal string.
 */
export function optionalSeed(body: Record<string, unknown>, field: string): bigint | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const seed =
    typeof value === 'number' && Number.isSafeInteger(value)
      ? BigInt(value)
      : typeof value === 'string' && /^[0-9]{1,20}$/.test(value)
        ? BigInt(value)
        : undefined;
  if (seed === undefined || seed < 0n || seed > MAX_SEED) {
    throw new BadRequestError(
      `"${field}" must be an integer from 0 to 2^64 − 1 (a decimal string above 2^53), got ${JSON.stringify(value)}`,
    );
  }
  return seed;
}
