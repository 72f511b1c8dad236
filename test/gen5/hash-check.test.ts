import { describe, expect, it } from 'vitest';
import { packInner } from '../../gen5/chunk.ts';
import { decodeGen5 } from '../../gen5/decode.ts';
import { Gen5Error } from '../../gen5/errors.ts';
import { readFrameInfo } from '../../gen5/zstd.ts';
import { assemble, envcPayload, f32Bytes, type RawChunk, rawFrame, sha256 } from './helpers.ts';

// decodeGen5 checks the SHA-256 of every chunk's payload, whatever the chunk type and however it is stored: a
// stored chunk, a zstd frame of raw blocks (a PNG's: copied into memory that is not zeroed first, gen5/bytes.ts) or
// a compressed frame. Each case: the file decodes to what was stored; a wrong hash in the chunk table and a changed
// byte of the payload (table untouched) are both HASH_MISMATCH naming the chunk.

function noise(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** A PNG-sized run of incompressible bytes (several 128 KiB blocks): zstd stores it as raw blocks. */
const NOISY = (() => {
  const b = noise(300_000, 7);
  b.set(PNG_SIGNATURE, 0);
  return b;
})();
/** As large, but zstd compresses it (a real compressed frame). */
const SMOOTH = Uint8Array.from({ length: 270_000 }, (_, i) => (i < 8 ? PNG_SIGNATURE[i] : (i >> 9) & 0xff));
const LATENT = f32Bytes(4096);
const ENVC_PAYLOAD = envcPayload([{ id: 'node', canonical: 'name=node;version=20' }]);

type Where = 'stored' | 'compressed' | 'raw blocks';
const chunk = (type: 'LATN' | 'DATA' | 'ENVC', where: Where, image = NOISY): RawChunk => {
  const payload = type === 'LATN' ? LATENT : type === 'DATA' ? image : ENVC_PAYLOAD;
  const flags = type === 'LATN' ? 'F32\0' : '0000';
  return {
    type,
    flags,
    payload,
    compressed: where !== 'stored',
    extra: type === 'LATN' ? { shape: [1, 4, 32, 32], dtype: 'float32', key: 'x' } : {},
    stored: where === 'raw blocks' ? rawFrame(packInner(type, flags, payload), 12 + payload.length) : undefined,
  };
};

const LAYOUTS: Record<string, RawChunk[]> = {
  'LATN compressed, DATA raw blocks, ENVC compressed (what lob and 0.1.0 write)': [
    chunk('LATN', 'compressed'),
    chunk('DATA', 'compressed'), // incompressible: the encoder writes raw blocks, as zstd would
    chunk('ENVC', 'compressed'),
  ],
  'everything stored': [chunk('LATN', 'stored'), chunk('DATA', 'stored'), chunk('ENVC', 'stored')],
  'LATN and ENVC as raw blocks, DATA zstd-compressed': [
    chunk('LATN', 'raw blocks'),
    chunk('DATA', 'compressed', SMOOTH),
    chunk('ENVC', 'raw blocks'),
  ],
};

async function outcome(bytes: Uint8Array, image: Uint8Array): Promise<string> {
  try {
    const f = await decodeGen5(bytes);
    const same = f.image && sha256(f.image) === sha256(image) && sha256(f.latents[0].data) === sha256(LATENT);
    return same && f.envc?.components[0].id === 'node' ? 'decoded' : 'decoded, but not what was stored';
  } catch (err) {
    expect(err).toBeInstanceOf(Gen5Error);
    return `${(err as Gen5Error).code}: ${(err as Gen5Error).message}`;
  }
}

describe('every payload hash is checked', () => {
  for (const [name, chunks] of Object.entries(LAYOUTS)) {
    it(`${name}: decodes; a wrong table hash or a changed payload byte of any chunk is rejected`, async () => {
      const image = chunks[1].payload;
      const good = await assemble(chunks);
      expect(await outcome(good, image)).toBe('decoded');
      const { records } = await decodeGen5(good);
      for (const index of [0, 1, 2]) {
        const what = `chunk ${index} \\(${chunks[index].type}\\)`;
        const wrongTable = await assemble(chunks, {
          meta: (m) => {
            m.gen5_metadata.chunks[index].hash = sha256('not the payload');
          },
        });
        expect(await outcome(wrongTable, image)).toMatch(
          new RegExp(
            `^HASH_MISMATCH: ${what}: SHA-256 of the payload is ${sha256(chunks[index].payload)}, the table says ${sha256('not the payload')}$`,
          ),
        );
        // A changed byte where the payload lies in the file (stored chunks and raw blocks hold it as is; in a
        // compressed frame the last byte belongs to the entropy-coded data, which then fails to decode or differs).
        const changed = good.slice();
        const r = records[index];
        changed[r.offset + r.compressed_size - 1] ^= 0x40;
        const result = await outcome(changed, image);
        const asIs = !r.compressed || readFrameInfo(good.subarray(r.offset, r.offset + r.compressed_size)).storedOnly;
        expect(result).toMatch(
          asIs
            ? new RegExp(`^HASH_MISMATCH: ${what}: SHA-256 of the payload is `)
            : new RegExp(`^(HASH_MISMATCH|ZSTD_CORRUPT): ${what}`),
        );
      }
    });
  }

  it('a payload split over several raw blocks is hashed whole: a change in any block is caught', async () => {
    const chunks = LAYOUTS['LATN compressed, DATA raw blocks, ENVC compressed (what lob and 0.1.0 write)'];
    const good = await assemble(chunks);
    const { records } = await decodeGen5(good);
    const data = records[1];
    const info = readFrameInfo(good.subarray(data.offset, data.offset + data.compressed_size));
    expect(info.storedOnly).toBe(true);
    // 300,012 bytes of content (12-byte chunk header + payload): raw blocks of 131,072, 131,072 and 37,868 bytes,
    // each after its 3-byte block header. One changed byte in each block:
    for (const [block, at] of [
      [0, 5000],
      [1, 500],
      [2, 37_000],
    ]) {
      const changed = good.slice();
      changed[data.offset + info.firstBlock + 3 * (block + 1) + 131_072 * block + at] ^= 1;
      expect(await outcome(changed, NOISY)).toMatch(/^HASH_MISMATCH: chunk 1 \(DATA\)/);
    }
  });
});
