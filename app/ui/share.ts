/**
 * Share links that reopen the same image. Short keys travel in the query (`/?k=…`) so links stay readable;
 * longer keys (SD-sized keys are ~190,000 characters) travel in the fragment (`/#k=…`), which browsers never
 * send to the server, so they reach neither server logs nor the request-line limits (Node refuses request
 * headers over 16 KiB; many proxies stop at 8 KiB).
 */
export const QUERY_KEY_MAX = 4096;

export function shareUrl(origin: string, key: string): string {
  const encoded = encodeURIComponent(key);
  return key.length <= QUERY_KEY_MAX ? `${origin}/?k=${encoded}` : `${origin}/#k=${encoded}`;
}

/** The key a page address names, from its fragment first (long keys) and then its query; null if none. */
export function keyFromLocation(search: string, hash: string): string | null {
  const fromHash = new URLSearchParams(hash.replace(/^#/, '')).get('k');
  if (fromHash) return fromHash;
  const fromQuery = new URLSearchParams(search).get('k');
  return fromQuery || null;
}
