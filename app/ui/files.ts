/** Saves a blob under a file name through a temporary link (the download attribute). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later, not at once: the browser may still be reading the blob for the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The SHA-256 of a key's text in lowercase hex (what the server's cache and progress are keyed by). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A short, stable file name for a key: `lob-` and the first 10 hex digits of its SHA-256. */
export async function keyFileName(key: string): Promise<string> {
  return `lob-${(await sha256Hex(key)).slice(0, 10)}`;
}
