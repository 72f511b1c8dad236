/** Browser-side calls to our HTTP API. Every failure becomes an ApiError carrying the server's code and message. */
import type { RenderProgress } from '../../lib/library.ts';

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

// The server's type (lib/library.ts), imported as a type only: nothing of the server reaches the browser bundle.
export type { RenderProgress };

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
export async function searchKey(prompt: string, bestOf = 1, negative?: string, seed?: number): Promise<string> {
  return ((await (await postJson('/api/search', { prompt, seed, bestOf, negative })).json()) as { key: string }).key;
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
