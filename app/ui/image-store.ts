import { ApiError, neighbourKey, renderPng } from './api.ts';

/**
 * The browser's memory of rendered images and neighbour keys, so prev/next after a prefetch is instant.
 * Images are kept as object URLs (revoked when evicted); requests for the same key share one fetch.
 */
const MAX_IMAGES = 24;
const MAX_NEIGHBOURS = 256;

export interface StoredImage {
  url: string;
  blob: Blob;
}

export class ImageStore {
  private readonly images = new Map<string, StoredImage>();
  private readonly pending = new Map<string, Promise<StoredImage>>();
  private readonly neighbours = new Map<string, string>();

  /** The image of `key`, from memory or rendered by the server; a queue-full answer is retried a few times. */
  image(key: string): Promise<StoredImage> {
    const have = this.peek(key);
    if (have) return Promise.resolve(have);
    let inFlight = this.pending.get(key);
    if (!inFlight) {
      inFlight = this.fetchImage(key).finally(() => this.pending.delete(key));
      this.pending.set(key, inFlight);
    }
    return inFlight;
  }

  /** The image of `key` if it is already in memory (marked as just used), without waiting. */
  peek(key: string): StoredImage | undefined {
    const have = this.images.get(key);
    if (have) {
      this.images.delete(key);
      this.images.set(key, have);
    }
    return have;
  }

  async neighbour(key: string, by: number, stride: string): Promise<string> {
    const id = `${by}|${stride}|${key}`;
    const known = this.neighbours.get(id);
    if (known) return known;
    const found = await neighbourKey(key, by, stride);
    this.neighbours.set(id, found);
    this.neighbours.set(`${-by}|${stride}|${found}`, key);
    while (this.neighbours.size > MAX_NEIGHBOURS) this.neighbours.delete(this.neighbours.keys().next().value as string);
    return found;
  }

  /**
   * Warms next and previous one after the other (never both at once: the server's render queue is shared with
   * everyone's foreground requests). Failures are ignored; the real click will report them.
   */
  async prefetch(key: string, stride: string, isCurrent: () => boolean): Promise<void> {
    for (const by of [1, -1]) {
      if (!isCurrent()) return;
      try {
        await this.image(await this.neighbour(key, by, stride));
      } catch {
        // A busy server (429) or a key at the edge of the keyspace: nothing to warm.
      }
    }
  }

  private async fetchImage(key: string): Promise<StoredImage> {
    for (let attempt = 0; ; attempt++) {
      try {
        const blob = await renderPng(key);
        const stored = { url: URL.createObjectURL(blob), blob };
        this.images.set(key, stored);
        this.trim();
        return stored;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 429) || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
      }
    }
  }

  private trim(): void {
    while (this.images.size > MAX_IMAGES) {
      const [oldest, stored] = this.images.entries().next().value as [string, StoredImage];
      this.images.delete(oldest);
      URL.revokeObjectURL(stored.url);
    }
  }
}
