import { describe, expect, it } from 'vitest';
import { packInner } from '../../gen5/chunk.ts';
import { decodeGen5 } from '../../gen5/decode.ts';
import { Gen5Error } from '../../gen5/errors.ts';
import { compressFrame } from '../../gen5/zstd.ts';
import {
  assemble,
  envcPayload,
  f32Bytes,
  type RawChunk,
  rawFrame,
  readFixture,
  rleFrame,
  sampleFile,
} from './helpers.ts';

async function codeOf(bytes: Uint8Array, limits?: Parameters<typeof decodeGen5>[1]): Promise<string> {
  const err = await decodeGen5(bytes, limits).then(
    () => 'decoded',
    (e) => e,
  );
  if (err === 'decoded') return err;
  expect(err).toBeInstanceOf(Gen5Error);
  return `${err.code}: ${err.message}`;
}

const ENVC: RawChunk = {
  type: 'ENVC',
  flags: '0000',
  payload: envcPayload([{ id: 'node', canonical: 'name=node;version=20' }]),
  compressed: true,
};
const latn = (data: Uint8Array, shape = [1, 1, 2, 2], extra: Record<string, unknown> = {}): RawChunk => ({
  type: 'LATN',
  flags: 'F32\0',
  payload: data,
  compressed: false,
  extra: { shape, dtype: 'float32', key: 'x', ...extra },
});
const setU32 = (b: Uint8Array, off: number, v: number) => {
  const c = b.slice();
  new DataView(c.buffer).setUint32(off, v, true);
  return c;
};

describe('hostile .gen5 input: every problem is a Gen5Error naming it', () => {
  it('the assembler makes valid files (control)', async () => {
    expect(await codeOf(await assemble([latn(f32Bytes(4)), ENVC]))).toBe('decoded');
  });

  it('truncated files', async () => {
    const file = readFixture('f32-compressed-7.gen5');
    expect(await codeOf(file.subarray(0, 10))).toMatch(/^TRUNCATED: file is 10 bytes, shorter than the 32-byte header/);
    expect(await codeOf(file.subarray(0, file.length - 1))).toMatch(/^TRUNCATED: .*header says 2555: truncated/);
    expect(await codeOf(new Uint8Array(0))).toMatch(/^TRUNCATED/);
  });

  it('bad magic and unknown versions', async () => {
    const file = readFixture('no-image-7.gen5');
    const bad = file.slice();
    bad[0] = 0x50;
    expect(await codeOf(bad)).toMatch(/^BAD_MAGIC: bad magic 50 45 4e 35/);
    const v2 = file.slice();
    v2[4] = 2;
    expect(await codeOf(v2)).toMatch(/^BAD_VERSION/);
  });

  it('trailing bytes after the declared size', async () => {
    const file = readFixture('no-image-7.gen5');
    expect(await codeOf(new Uint8Array([...file, 0]))).toMatch(/^FILE_SIZE: .*trailing bytes/);
  });

  it('META offset or size past the end', async () => {
    const file = readFixture('no-image-7.gen5');
    expect(await codeOf(setU32(file, 12, 0xffffffff))).toMatch(/^OUT_OF_BOUNDS: META chunk/);
    expect(await codeOf(setU32(file, 8, 4))).toMatch(/^OUT_OF_BOUNDS: META chunk/);
  });

  it('a chunk whose offset or size lies past the end', async () => {
    const bytes = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[1].offset = 1e9;
      },
    });
    expect(await codeOf(bytes)).toMatch(/^OUT_OF_BOUNDS: chunk 1 \(ENVC\): bytes 1000000000/);
    const big = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[0].compressed_size = 2 ** 40;
      },
    });
    expect(await codeOf(big)).toMatch(/^OUT_OF_BOUNDS/);
  });

  it('overlapping chunks', async () => {
    const bytes = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[1].offset -= 4;
      },
    });
    expect(await codeOf(bytes)).toMatch(/^OVERLAP: chunk 1 \(ENVC\).* overlaps chunk 0 \(LATN\)/);
    const intoHeader = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[0].offset = 8;
      },
    });
    expect(await codeOf(intoHeader)).toMatch(/^OVERLAP: .*header/);
  });

  it('millions of chunk records, declared in the header or listed in META', async () => {
    const file = readFixture('no-image-7.gen5');
    expect(await codeOf(setU32(file, 16, 5_000_000))).toMatch(/^TOO_MANY_CHUNKS: header declares 5000000 chunks/);
    const listed = await assemble([latn(f32Bytes(4)), ENVC], {
      metaText: `{"gen5_metadata": {"chunks": [${'{},'.repeat(2_000_000)}{}]}}`,
    });
    expect(await codeOf(listed)).toMatch(/^TOO_MANY_CHUNKS: META lists 2000001 chunks/);
  });

  it('a zstd bomb: a frame that expands past its declared content size', async () => {
    // Declares 28 bytes (the table's 16 + 12) but its RLE blocks expand to 64 MiB.
    const rle = await assemble([
      { ...latn(f32Bytes(4)), compressed: true, stored: rleFrame(0, 64 * 1024 * 1024, 28) },
      ENVC,
    ]);
    expect(await codeOf(rle)).toMatch(/^ZSTD_CORRUPT: chunk 0 \(LATN\): zstd blocks expand past the declared 28 bytes/);
    // The same through zstd itself: compressed blocks (300 kB of a pattern in 297 bytes), content size rewritten to 28.
    const frame = await compressFrame(Uint8Array.from({ length: 300_000 }, (_, i) => i % 251));
    expect(frame[4] >> 6).toBe(2); // a 4-byte Frame_Content_Size field…
    const fcsAt = frame[4] & 0x20 ? 5 : 6; // …after the window descriptor unless single-segment
    new DataView(frame.buffer).setUint32(fcsAt, 28, true);
    const packed = await assemble([{ ...latn(f32Bytes(4)), compressed: true, stored: frame }, ENVC]);
    expect(await codeOf(packed)).toMatch(/^ZSTD_CORRUPT: chunk 0 \(LATN\): zstd could not decompress the frame/);
  });

  it('a frame declaring more than the limits, rejected before any allocation', async () => {
    const huge = rleFrame(0, 1, 2 ** 40); // declares 1 TiB
    const bytes = await assemble([{ ...latn(f32Bytes(4)), compressed: true, stored: huge }, ENVC]);
    expect(await codeOf(bytes)).toMatch(/^ZSTD_TOO_LARGE: chunk 0 \(LATN\): zstd frame declares 1099511627776 bytes/);
    const table = await assemble([
      {
        type: 'DATA',
        flags: '0000',
        payload: new Uint8Array(8),
        compressed: true,
        record: { uncompressed_size: 2 ** 31 },
      },
      ENVC,
    ]);
    expect(await codeOf(table)).toMatch(/^CHUNK_TOO_LARGE: chunk 0 \(DATA\): 2147483648 bytes/);
  });

  it('frames without a content size, with trailing bytes, or needing a dictionary', async () => {
    const inner = packInner('LATN', 'F32\0', f32Bytes(4));
    const noSize = await assemble([{ ...latn(f32Bytes(4)), compressed: true, stored: rawFrame(inner, null) }, ENVC]);
    expect(await codeOf(noSize)).toMatch(/^ZSTD_NO_CONTENT_SIZE/);
    const good = await compressFrame(inner);
    const trailing = await assemble([
      { ...latn(f32Bytes(4)), compressed: true, stored: new Uint8Array([...good, 1, 2]) },
      ENVC,
    ]);
    expect(await codeOf(trailing)).toMatch(/^ZSTD_FRAME: .*trailing bytes/);
    const dict = good.slice();
    dict[4] |= 1;
    expect(await codeOf(await assemble([{ ...latn(f32Bytes(4)), compressed: true, stored: dict }, ENVC]))).toMatch(
      /^ZSTD_FRAME/,
    );
  });

  it('META of 100 MB (declared), rejected by its frame header', async () => {
    const meta = rleFrame(0x20, 100 * 1024 * 1024, 100 * 1024 * 1024);
    expect(await codeOf(await assemble([latn(f32Bytes(4)), ENVC], { metaStored: meta }))).toMatch(
      /^META_TOO_LARGE: META declares/,
    );
  });

  it('META JSON nested 100,000 deep', async () => {
    const deep = `{"gen5_metadata": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(await codeOf(await assemble([latn(f32Bytes(4)), ENVC], { metaText: deep }))).toMatch(
      /^META_TOO_DEEP: META JSON is nested deeper than 64/,
    );
  });

  it('META that is not UTF-8 JSON, or fails the schema', async () => {
    const notJson = await assemble([latn(f32Bytes(4)), ENVC], { metaText: '{"gen5_metadata": ' });
    expect(await codeOf(notJson)).toMatch(/^META_JSON/);
    const noInfo = await assemble([latn(f32Bytes(4)), ENVC], { meta: (m) => void delete m.gen5_metadata.model_info });
    expect(await codeOf(noInfo)).toMatch(
      /^SCHEMA: META fails the gen5 0.1.0 schema at \/gen5_metadata: must have required property 'model_info'/,
    );
    const badRecord = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => void delete m.gen5_metadata.chunks[0].hash,
    });
    expect(await codeOf(badRecord)).toMatch(
      /^SCHEMA: .*\/gen5_metadata\/chunks\/0: must have required property 'hash'/,
    );
  });

  it('NaN and Inf in latents', async () => {
    const nan = new Uint8Array(new Float32Array([0, 1, Number.NaN, 2]).buffer);
    expect(await codeOf(await assemble([latn(nan), ENVC]))).toMatch(/^LATENT_NONFINITE: latent "x": element 2 is NaN/);
    const inf = new Uint8Array(new Uint16Array([0, 0x7c00, 0, 0]).buffer);
    const f16 = { ...latn(inf, [1, 1, 2, 2], { dtype: 'float16' }), flags: 'F16\0' };
    expect(await codeOf(await assemble([f16, ENVC]))).toMatch(/^LATENT_NONFINITE: latent "x": element 1 is Inf/);
  });

  it('payload lengths that disagree with shapes, and bad shapes or dtypes', async () => {
    expect(await codeOf(await assemble([latn(f32Bytes(4), [1, 1, 2, 3]), ENVC]))).toMatch(
      /^LATENT_SIZE: chunk 0 \(LATN\): payload is 16 bytes, shape \[1,1,2,3\] × float32 needs 24/,
    );
    expect(await codeOf(await assemble([latn(f32Bytes(4), [4]), ENVC]))).toMatch(/^LATENT_SHAPE: .*not 4-D/);
    expect(await codeOf(await assemble([latn(f32Bytes(4), [1, 1, 2, 2], { dtype: 'float16' }), ENVC]))).toMatch(
      /^LATENT_DTYPE: .*disagrees with flags "F32"/,
    );
  });

  it('hashes that do not match the payload (0.1.0 never checks them)', async () => {
    const bytes = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[0].hash = '0'.repeat(64);
      },
    });
    expect(await codeOf(bytes)).toMatch(
      /^HASH_MISMATCH: chunk 0 \(LATN\): SHA-256 of the payload is [0-9a-f]{64}, the table says 0{64}/,
    );
    // Opting out of hash checks (for bytes verified before) leaves every other check on.
    expect(await codeOf(bytes, { verifyHashes: false })).toBe('decoded');
    const nan = await assemble([latn(new Uint8Array(new Float32Array([0, 0, Number.NaN, 0]).buffer)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.chunks[0].hash = '0'.repeat(64);
      },
    });
    expect(await codeOf(nan, { verifyHashes: false })).toMatch(/^LATENT_NONFINITE/);
  });

  it('inner headers that disagree with the table, unknown types, repeated chunks and names', async () => {
    const wrongType = await assemble([{ ...latn(f32Bytes(4)), stored: packInner('DATA', 'F32\0', f32Bytes(4)) }, ENVC]);
    expect(await codeOf(wrongType)).toMatch(/^CHUNK_HEADER: chunk 0 \(LATN\): chunk header says type "DATA"/);
    const unknown = await assemble([latn(f32Bytes(4)), { ...ENVC, type: 'XTRA' }]);
    expect(await codeOf(unknown)).toMatch(/^UNKNOWN_CHUNK: chunk 1 \(XTRA\)/);
    expect(await codeOf(await assemble([latn(f32Bytes(4)), ENVC, ENVC]))).toMatch(
      /^CHUNK_TABLE: chunk 2 \(ENVC\): a second ENVC chunk/,
    );
    expect(await codeOf(await assemble([latn(f32Bytes(4)), latn(f32Bytes(4)), ENVC]))).toMatch(
      /^CHUNK_TABLE: .*latent name "x" appears twice/,
    );
    const count = await assemble([latn(f32Bytes(4)), ENVC], {
      meta: (m) => {
        m.gen5_metadata.file_info.chunk_count = 3;
      },
    });
    expect(await codeOf(count)).toMatch(/^CHUNK_COUNT: file_info.chunk_count is 3/);
  });

  it('ENVC that is not the expected JSON', async () => {
    const env = {
      ...ENVC,
      payload: new TextEncoder().encode('{"env_version": 1, "components": [{"component_id": 3}]}'),
    };
    expect(await codeOf(await assemble([latn(f32Bytes(4)), env]))).toMatch(/^ENVC: ENVC component 0 needs string/);
  });

  it('tighter limits are honoured', async () => {
    const file = await sampleFile();
    expect(await codeOf(file, { limits: { maxFileBytes: 100 } })).toMatch(/^FILE_SIZE: .*above the limit of 100/);
    expect(await codeOf(file, { limits: { maxChunkBytes: 16 } })).toMatch(/^CHUNK_TOO_LARGE/);
    expect(await codeOf(file, { limits: { maxTotalDecompressedBytes: 200 } })).toMatch(
      /^ZSTD_TOO_LARGE: .*per-file limit of 200/,
    );
  });
});
