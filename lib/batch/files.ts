import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Output paths of a row, relative to the batch folder. */
export function rowPaths(name: string): { image: string; hidden: string; gen5: string } {
  return { image: `images/${name}.png`, hidden: `hidden/${name}.npy`, gen5: `gen5/${name}.gen5` };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes a file whole or not at all (a temporary name, then rename): an interrupted batch never leaves a truncated
 * image that a resumed run could mistake for a finished one. Returns the SHA-256 of the bytes.
 */
export async function writeWhole(dir: string, rel: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, rel);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return sha256(bytes);
}

/** True when every listed file exists under `dir` with the given SHA-256. */
export async function filesMatch(
  dir: string,
  files: Record<string, string>,
  hashes: Record<string, string>,
): Promise<boolean> {
  for (const [what, rel] of Object.entries(files)) {
    const want = hashes[what];
    if (typeof want !== 'string') return false;
    try {
      if (sha256(await readFile(join(dir, rel))) !== want) return false;
    } catch {
      return false;
    }
  }
  return true;
}
