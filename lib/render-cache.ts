import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPngKey } from '../pipeline/png/render-png.ts';

/**
 * A disk cache of rendered PNGs, keyed by the SHA-256 of the key text (keys can be ~190,000 characters, far too
 * long for a file name). Bounded by an explicit byte budget; the least recently used files go first.
 *
 * Safety with concurrent requests (and with a CLI sharing the folder):
 * - a file is written under a unique temporary name and renamed into place, so a reader sees either no file or
 *   the whole file, never a partial one;
 * - a file that vanishes between the index and the read (evicted by someone else) is simply a miss;
 * - every read checks the PNG signature, the closing IEND chunk, every chunk's CRC and that the PNG names the key
 *   it is filed under, so a truncated file (a crash of some other writer that bypassed the rename), a flipped
 *   byte or another key's image is deleted and treated as a miss (and rendered afresh) rather than served.
 * The in-memory index is only changed synchronously, so interleaved async calls cannot corrupt its byte count.
 *
 * The cache is an optimisation, never a failure: a full disk, a folder that cannot be created or a directory
 * where a file should be makes a read a miss and a write a no-op (its temporary file removed). Each kind of fault
 * is reported once through `onFault`, not once per request.
 */
export interface RenderCacheOptions {
  dir: string;
  /** Upper bound on the bytes of PNG files kept in `dir`. */
  maxBytes: number;
  /** Told once per kind of file-system fault (default: a console warning). */
  onFault?: (message: string) => void;
}

interface Entry {
  size: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Length 0, type IEND, CRC of "IEND": every complete PNG ends with exactly these 12 bytes.
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The PNG is intact (every chunk's CRC) and names a key with this hash in its lob-key chunk, in full or by hash. */
function isPngOfKeyHash(bytes: Buffer, hash: string): boolean {
  try {
    const found = readPngKey(bytes);
    if (found?.kind === 'key') return keyHash(found.key) === hash;
    return found?.kind === 'ref' && found.sha256 === hash;
  } catch {
    return false; // a bad CRC or broken chunk structure
  }
}

export function isCompletePng(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length + PNG_IEND.length) return false;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.subarray(0, 8).equals(PNG_SIGNATURE) && buf.subarray(buf.length - 12).equals(PNG_IEND);
}

export class RenderCache {
  readonly dir: string;
  readonly maxBytes: number;
  // A Map iterates in insertion order; re-inserting on every use keeps the least recently used entry first.
  private readonly entries = new Map<string, Entry>();
  // Per file, the tail of its chain of pending writes and deletions.
  private readonly queues = new Map<string, Promise<void>>();
  private totalBytes = 0;
  private ready: Promise<boolean> | null = null;
  private hitCount = 0;
  private missCount = 0;
  private readonly reported = new Set<string>();
  private readonly onFault: (message: string) => void;

  constructor(options: RenderCacheOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 0) {
      throw new RangeError(`render cache maxBytes must be a non-negative integer, got ${options.maxBytes}`);
    }
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.onFault = options.onFault ?? ((message) => console.warn(`[lob] render cache: ${message}`));
  }

  get stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.totalBytes, hits: this.hitCount, misses: this.missCount };
  }

  /** The cached PNG for `key`, or null (also when the cache cannot be read at all). */
  get(key: string): Promise<Buffer | null> {
    return this.getByHash(keyHash(key));
  }

  /**
   * The cached PNG of the key with this SHA-256 (lowercase hex), or null. A file is served only when it is intact and
   * names a key with that hash; anything else is removed and counts as a miss.
   */
  async getByHash(hash: string): Promise<Buffer | null> {
    if (!(await this.init())) return this.miss();
    const entry = this.entries.get(hash);
    if (!entry) return this.miss();
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fault('read', err);
      this.forget(hash);
      return this.miss();
    }
    if (!isCompletePng(bytes) || !isPngOfKeyHash(bytes, hash)) {
      this.forget(hash);
      await this.removeUnlessReplaced(hash);
      return this.miss();
    }
    this.touch(hash, entry);
    this.hitCount++;
    return bytes;
  }

  has(key: string): boolean {
    return this.entries.has(keyHash(key));
  }

  /**
   * Stores `png` for `key` and evicts least recently used files until the cache fits its budget. A write the disk
   * refuses leaves nothing behind and is reported (once per kind) rather than thrown.
   */
  async put(key: string, png: Uint8Array): Promise<void> {
    if (!isCompletePng(png)) throw new TypeError('render cache only stores complete PNG files');
    if (!(await this.init()) || png.byteLength > this.maxBytes) return;
    const hash = keyHash(key);
    await this.exclusive(hash, async () => {
      const temp = join(this.dir, `${hash}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(temp, png);
        await rename(temp, this.pathOf(hash));
      } catch (err) {
        await unlinkQuietly(temp).catch(() => {});
        this.fault('write', err);
        return;
      }
      this.forget(hash);
      this.entries.set(hash, { size: png.byteLength });
      this.totalBytes += png.byteLength;
    });
    await this.evict();
  }

  private miss(): null {
    this.missCount++;
    return null;
  }

  private fault(operation: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (this.reported.has(`${operation} ${code}`)) return;
    this.reported.add(`${operation} ${code}`);
    // The folder is named, not the file: which key failed says nothing more about the fault.
    this.onFault(`cannot ${operation} in ${this.dir} (${code}); serving renders without caching them`);
  }

  private pathOf(hash: string): string {
    return join(this.dir, `${hash}.png`);
  }

  private forget(hash: string): void {
    const entry = this.entries.get(hash);
    if (!entry) return;
    this.entries.delete(hash);
    this.totalBytes -= entry.size;
  }

  private touch(hash: string, entry: Entry): void {
    // Evicted or replaced while the file was being read: the index already moved on.
    if (this.entries.get(hash) !== entry) return;
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    // The file's mtime records recency so the order survives a restart; failure only costs ordering accuracy.
    const now = new Date();
    utimes(this.pathOf(hash), now, now).catch(() => {});
  }

  private async evict(): Promise<void> {
    const victims: string[] = [];
    for (const [hash, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      victims.push(hash);
      this.totalBytes -= entry.size;
    }
    for (const hash of victims) this.entries.delete(hash);
    await Promise.all(victims.map((hash) => this.removeUnlessReplaced(hash)));
  }

  /**
   * Deletes a file the index no longer lists. Runs after any write of the same file already under way, and skips
   * the deletion when such a write has listed the file again: otherwise it would delete the new image.
   */
  private removeUnlessReplaced(hash: string): Promise<void> {
    return this.exclusive(hash, async () => {
      if (!this.entries.has(hash)) await unlinkQuietly(this.pathOf(hash)).catch((err) => this.fault('remove', err));
    });
  }

  /** Runs file operations on one cache file one after the other (writes and deletions must not interleave). */
  private exclusive<T>(hash: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(hash) ?? Promise.resolve();
    const result = previous.then(operation);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.queues.set(hash, settled);
    settled.then(() => {
      if (this.queues.get(hash) === settled) this.queues.delete(hash);
    });
    return result;
  }

  /** Indexes the folder once; false when it cannot be created or read (the cache then stays out of the way). */
  private init(): Promise<boolean> {
    this.ready ??= this.load().then(
      () => true,
      (err: unknown) => {
        this.fault('open the cache folder', err);
        return false;
      },
    );
    return this.ready;
  }

  /** Indexes the files already on disk, oldest modification first, and trims to the budget. */
  private async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: { hash: string; size: number; mtimeMs: number }[] = [];
    for (const name of await readdir(this.dir)) {
      const match = /^([0-9a-f]{64})\.png$/.exec(name);
      if (!match) {
        if (name.endsWith('.tmp')) await removeStaleTemp(join(this.dir, name));
        continue;
      }
      try {
        const info = await stat(join(this.dir, name));
        found.push({ hash: match[1], size: info.size, mtimeMs: info.mtimeMs });
      } catch {
        // Removed between readdir and stat: nothing to index.
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { hash, size } of found) {
      if (this.entries.has(hash)) continue;
      this.entries.set(hash, { size });
      this.totalBytes += size;
    }
    await this.evict();
  }
}

// A temporary file left by a crashed writer is never renamed into place. Young ones may belong to a live writer
// in another process (the CLI shares the folder), so only those older than a minute are cleared away.
async function removeStaleTemp(path: string): Promise<void> {
  try {
    if (Date.now() - (await stat(path)).mtimeMs > 60_000) await unlinkQuietly(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
