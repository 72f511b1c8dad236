import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packInner } from '../../gen5/chunk.ts';
import { decodeGen5 } from '../../gen5/decode.ts';
import { Gen5Error } from '../../gen5/errors.ts';
import { verifyGen5 } from '../../gen5/verify.ts';
import { compressFrame, decompressFrame } from '../../gen5/zstd.ts';
import { f32Bytes, readFixture, sampleFile } from './helpers.ts';

// zstd-wasm's module object (the package exports only its API), to read the wasm heap's size: wasm memory is not
// counted in process.memoryUsage().
const require = createRequire(import.meta.url);
const zstdModule = require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')).Module as {
  HEAPU8: Uint8Array;
};

const ITERATIONS = 10_000;
// Small limits: a mutated size field must hit a limit, never an allocation proportional to it.
const LIMITS = {
  maxFileBytes: 1 << 20,
  maxChunkBytes: 1 << 16,
  maxTotalDecompressedBytes: 1 << 18,
  maxMetaBytes: 1 << 16,
};

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const INTERESTING = [0, 1, 12, 31, 32, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];

async function mutateMeta(file: Uint8Array, rand: (n: number) => number): Promise<Uint8Array> {
  const dv = new DataView(file.buffer, file.byteOffset);
  const off = dv.getUint32(8, true);
  const inner = await decompressFrame(file.subarray(off), 1 << 20, 'META');
  const text = new TextDecoder().decode(inner.subarray(12)).split('');
  for (let k = 1 + rand(3); k > 0; k--) text[rand(text.length)] = '0123456789-[]{}",:eE.ntf'[rand(24)];
  const meta = await compressFrame(packInner('META', '0000', new TextEncoder().encode(text.join(''))));
  const out = new Uint8Array(off + meta.length);
  out.set(file.subarray(0, off));
  out.set(meta, off);
  new DataView(out.buffer).setUint32(12, meta.length, true);
  new DataView(out.buffer).setUint32(20, out.length, true);
  return out;
}

async function mutate(base: Uint8Array, rand: (n: number) => number): Promise<Uint8Array> {
  const b = base.slice();
  switch (rand(7)) {
    case 0: // flip bits
      for (let k = 1 + rand(4); k > 0; k--) b[rand(b.length)] ^= 1 << rand(8);
      return b;
    case 1: // interesting bytes
      for (let k = 1 + rand(4); k > 0; k--) b[rand(b.length)] = INTERESTING[rand(8)];
      return b;
    case 2: // truncate
      return b.subarray(0, rand(b.length));
    case 3: {
      // insert random bytes
      const at = rand(b.length);
      const ins = Uint8Array.from({ length: 1 + rand(16) }, () => rand(256));
      return new Uint8Array([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    }
    case 4: // header u32 fields
      new DataView(b.buffer).setUint32(
        8 + 4 * rand(4),
        INTERESTING[rand(INTERESTING.length)] + (rand(2) ? b.length : 0),
        true,
      );
      return b;
    case 5: // valid zstd, broken JSON: reaches schema and layout checks
      return mutateMeta(base, rand);
    default: {
      // copy a slice over another place
      const from = rand(b.length);
      const len = rand(64);
      b.copyWithin(rand(b.length), from, from + len);
      return b;
    }
  }
}

describe('gen5 fuzz', () => {
  it(`survives ${ITERATIONS} mutations of valid files with only Gen5Error (decode) or a report (verify), quickly, in bounded memory`, async () => {
    const bases = [
      await sampleFile(),
      await sampleFile({ compress: false }),
      await sampleFile({ image: undefined, float16: true }),
      await sampleFile({
        latents: [0, 1].map((i) => ({
          name: `l${i}`,
          dtype: 'float32' as const,
          shape: [1, 1, 2, 2],
          data: f32Bytes(4, i),
        })),
      }),
      readFixture('no-image-7.gen5'),
    ];
    const rand = rng(0x5eed);
    const outcomes: Record<string, number> = {};
    const unexpected: string[] = [];
    const memBefore = process.memoryUsage();
    const wasmHeap = () => zstdModule.HEAPU8.length;
    const wasmBefore = wasmHeap();
    let peakArrayBuffers = 0;
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const input = await mutate(bases[rand(bases.length)], rand);
      let decoded = false;
      try {
        await decodeGen5(input, { limits: LIMITS });
        decoded = true;
        outcomes.decoded = (outcomes.decoded ?? 0) + 1;
      } catch (err) {
        if (err instanceof Gen5Error) outcomes[err.code] = (outcomes[err.code] ?? 0) + 1;
        else unexpected.push(`iteration ${i}: ${(err as Error)?.stack ?? err}`);
      }
      // verify never throws: it reports. It must fail exactly the files decode rejects (and maybe more: gaps, order).
      try {
        const report = await verifyGen5(input, { limits: LIMITS });
        if (!decoded && report.ok) unexpected.push(`iteration ${i}: decode rejected a file verify passed`);
      } catch (err) {
        unexpected.push(`iteration ${i}: verify threw ${(err as Error)?.stack ?? err}`);
      }
      if (i % 500 === 0) peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
    }
    const seconds = (performance.now() - start) / 1000;
    expect(unexpected).toEqual([]);
    // The mutations reach deep (many distinct codes); a few mutants still decode, e.g. a changed reserved header
    // byte or a changed character inside the prompt.
    expect(Object.keys(outcomes).length).toBeGreaterThan(12);
    // Memory stays bounded: neither JS ArrayBuffers nor zstd's wasm heap grow past the limits' scale, whatever
    // sizes the mutants declare.
    expect(peakArrayBuffers - memBefore.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
    expect(wasmHeap() - wasmBefore).toBeLessThan(16 * 1024 * 1024);
    expect(seconds).toBeLessThan(60); // a hang would blow far past this; not a benchmark
    console.log(`gen5 fuzz: ${ITERATIONS} mutants in ${seconds.toFixed(1)} s`, outcomes);
  });
});
