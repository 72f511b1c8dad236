/** Browser-side calls to our HTTP API. Every failure becomes an ApiError carrying the server's code and message. */
import type { FoundPicture, RenderProgress } from '../../lib/library.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ModelInfo {
  name: string;
  version: string;
  profileId: string;
  strides: { name: string; label: string }[];
  bestOfMax: number;
  /** The model's own number of candidates for a search ("try N"), chosen until the reader picks another. */
  bestOfDefault: number;
}

export interface ImportResult {
  key: string;
  verified: boolean;
  warnings: string[];
}

async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(response.status, body.error?.code ?? 'http', body.error?.message ?? response.statusText);
  } catch {
    return new ApiError(response.status, 'http', `the server answered ${response.status} ${response.statusText}`);
  }
}

/** fetch's own failure (a TypeError such as "Failed to fetch") means no answer came: the server is down or away. */
export const UNREACHABLE =
  'The library server cannot be reached. Check that it is running and your connection is up, then try again.';

async function call(path: string, init: RequestInit & { signal?: AbortSignal }): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

function postJson(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return call(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

// The server's types (lib/library.ts), imported as types only: nothing of the server reaches the browser bundle.
export type { FoundPicture, RenderProgress };

export async function renderProgress(keySha256: string): Promise<RenderProgress> {
  return (await call(`/api/progress?key=${keySha256}`, { cache: 'no-store' })).json();
}

export async function fetchModel(): Promise<ModelInfo> {
  return (await call('/api/model', {})).json();
}

export async function randomKey(): Promise<string> {
  return ((await (await call('/api/random', { cache: 'no-store' })).json()) as { key: string }).key;
}

/** `negative`: the "avoid" text, kept in the key as guidance's unconditional branch. */
export async function searchKey(prompt: string, bestOf = 1, negative?: string, guidance?: number): Promise<string> {
  return ((await (await postJson('/api/search', { prompt, bestOf, negative, guidance })).json()) as { key: string })
    .key;
}

export async function neighbourKey(key: string, by: number, stride: string, signal?: AbortSignal): Promise<string> {
  return ((await (await postJson('/api/neighbour', { key, by, stride }, signal)).json()) as { key: string }).key;
}

export async function walkKeys(from: string, to: string, frames: number): Promise<string[]> {
  return ((await (await postJson('/api/walk', { from, to, frames })).json()) as { keys: string[] }).keys;
}

export async function renderPng(key: string, signal?: AbortSignal): Promise<Blob> {
  return (await postJson('/api/render', { key }, signal)).blob();
}

export async function exportGen5(key: string): Promise<Blob> {
  return (await postJson('/api/export', { key })).blob();
}

export async function importFile(file: Blob): Promise<ImportResult> {
  const response = await call('/api/import', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: file,
  });
  return response.json();
}

/** How far a find has come: candidates tried of those planned. */
export interface FindProgress {
  done: number;
  total: number;
}

/** One line of /api/find's NDJSON answer. */
type FindLine =
  | { progress: FindProgress }
  | { result: FoundPicture }
  | { error: { code: string; message: string }; status: number };

/**
 * Picture → key (POST /api/find), read as a stream of NDJSON lines so `onProgress` hears of every candidate tried.
 * The picture goes as plain bytes: the server tells PNG, JPEG, WebP and SVG apart by their contents, so a file the
 * browser labels oddly (or not at all) gets the server's own verdict on it.
 */
export async function findPicture(
  picture: Blob,
  onProgress: (progress: FindProgress) => void,
  signal?: AbortSignal,
): Promise<FoundPicture> {
  const response = await call('/api/find', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/x-ndjson' },
    body: picture,
    signal,
  });
  for await (const line of ndjsonLines(response, signal)) {
    const message = JSON.parse(line) as FindLine;
    if ('progress' in message) onProgress(message.progress);
    else if ('result' in message) return message.result;
    else throw new ApiError(message.status, message.error.code, message.error.message);
  }
  throw new ApiError(0, 'unreachable', CUT_SHORT);
}

const CUT_SHORT = 'The library server stopped answering before the search was done. Try again.';

/** The non-blank lines of a streamed body; a connection lost mid-way is the server being unreachable. */
async function* ndjsonLines(response: Response, signal?: AbortSignal): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    let chunk: ReadableStreamReadResult<string>;
    try {
      chunk = await reader.read();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'unreachable', UNREACHABLE);
    }
    if (chunk.done) {
      if (buffered.trim()) yield buffered;
      return;
    }
    buffered += chunk.value;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) yield line;
  }
}

/** "This picture, but …": the key's latent and steps under another prompt. */
export async function rekeyKey(key: string, prompt: string): Promise<string> {
  return ((await (await postJson('/api/rekey', { key, prompt })).json()) as { key: string }).key;
}
