import { ApiError } from './api.ts';

/** An error as the page says it: what went wrong and, where it helps, what to do. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'bad_key')
      return /is not a key/.test(err.message) ? err.message : `Not a valid key: ${err.message}`;
    if (err.status === 429) return `The library is busy right now (${err.message}). Try again in a moment.`;
    if (err.status === 503) return `The model is not available: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
