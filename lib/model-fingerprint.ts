import { createHash } from 'node:crypto';

/**
 * A short digest of a model folder's file digests. It names the disk cache's subfolder, the render queue and the
 * shared cache entries, so images of one model are never served for another.
 */
export function modelFingerprint(files: Record<string, string>): string {
  const sorted = Object.entries(files).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
