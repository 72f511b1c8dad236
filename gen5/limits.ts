/**
 * Bounds that keep decoding hostile files cheap. Every size is checked against these BEFORE the matching
 * allocation (zstd frames by their declared content size, META by its header size), so a decode never holds
 * more than the file itself plus `maxTotalDecompressedBytes`. Documented in docs/gen5.md.
 */
export interface Gen5Limits {
  /** Largest file accepted (the format's u32 file_size caps it at 4 GiB anyway). */
  maxFileBytes: number;
  /** Chunk records (LATN + DATA + ENVC); gen5 0.1.0 uses 1000 too. */
  maxChunks: number;
  /** Largest payload of one LATN or DATA chunk, after decompression. */
  maxChunkBytes: number;
  /** Sum of every decompressed payload in one file, META and ENVC included. */
  maxTotalDecompressedBytes: number;
  /** META JSON bytes. */
  maxMetaBytes: number;
  /** Nesting depth of META and ENVC JSON (objects + arrays). */
  maxJsonDepth: number;
  /** ENVC JSON bytes. */
  maxEnvcBytes: number;
  /** ENVC components. */
  maxEnvComponents: number;
  /** Elements of one latent (gen5 0.1.0's own bound). */
  maxLatentElements: number;
  /** Size of one latent dimension (gen5 0.1.0's own bound). */
  maxLatentDim: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Gen5Limits> = Object.freeze({
  maxFileBytes: 1024 * MiB,
  maxChunks: 1000,
  maxChunkBytes: 256 * MiB,
  maxTotalDecompressedBytes: 512 * MiB,
  maxMetaBytes: 16 * MiB,
  maxJsonDepth: 64,
  maxEnvcBytes: 1 * MiB,
  maxEnvComponents: 1000,
  maxLatentElements: 100_000_000,
  maxLatentDim: 8192,
});

export function resolveLimits(overrides?: Partial<Gen5Limits>): Gen5Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
