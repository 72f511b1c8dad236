import { describe, expect, it } from 'vitest';
import { verifyGen5 } from '../../gen5/verify.ts';
import { assemble, envcPayload, f32Bytes, readFixture, sampleFile, TINY_PNG } from './helpers.ts';

const pixels = async (png: Uint8Array) => ({ width: 1, height: 1, channels: 1, data: png.subarray(png.length - 1) });

describe('verifyGen5', () => {
  it('passes gen5 0.1.0 files, noting their stale file_info.file_size', async () => {
    const report = await verifyGen5(readFixture('f16-two-latents-raw-7.gen5'));
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'header',
      'header fields',
      'file size',
      'META',
      'layout',
      'chunk 0 (LATN "initial_noise")',
      'chunk 1 (LATN "final_latent")',
      'chunk 2 (DATA)',
      'chunk 3 (ENVC)',
    ]);
    expect(report.notes[0]).toMatch(/file_info.file_size is 17870, header says 17874/);
  });

  it('lists every failure instead of stopping at the first', async () => {
    const file = await assemble(
      [
        {
          type: 'LATN',
          flags: 'F32\0',
          payload: f32Bytes(4),
          compressed: false,
          extra: { shape: [1, 1, 2, 2], dtype: 'float32', key: 'a' },
        },
        { type: 'DATA', flags: '0000', payload: TINY_PNG, compressed: true },
        { type: 'ENVC', flags: '0000', payload: envcPayload([]), compressed: true },
      ],
      {
        meta: (m) => {
          m.gen5_metadata.chunks[0].hash = 'a'.repeat(64);
          m.gen5_metadata.chunks[1].hash = 'b'.repeat(64);
        },
      },
    );
    const report = await verifyGen5(file);
    expect(report.ok).toBe(false);
    expect(report.failures).toEqual([
      expect.stringMatching(/^chunk 0 \(LATN "a"\): HASH_MISMATCH/),
      expect.stringMatching(/^chunk 1 \(DATA\): HASH_MISMATCH/),
    ]);
  });

  it('fails on layout departures a decoder tolerates (gaps, order) and on forged ENVC digests', async () => {
    const env = new TextEncoder().encode(
      JSON.stringify({
        env_version: 1,
        components: [
          { component_id: 'os', cononical_str: 'name=os;version=X', component_sha256_digest: 'f'.repeat(64) },
        ],
      }),
    );
    const file = await assemble([
      { type: 'ENVC', flags: '0000', payload: env, compressed: true },
      {
        type: 'LATN',
        flags: 'F32\0',
        payload: f32Bytes(4),
        compressed: false,
        extra: { shape: [1, 1, 2, 2], dtype: 'float32', key: 'a' },
      },
    ]);
    const report = await verifyGen5(file);
    expect(report.failures).toEqual([
      expect.stringMatching(/^layout: chunk order ENVC, LATN is not LATN…, DATA \(optional\), ENVC/),
      "chunk 0 (ENVC): HASH_MISMATCH: ENVC component 'os': digest does not match its canonical string",
    ]);
  });

  it('stops early with the reason when the header or META is unreadable', async () => {
    const report = await verifyGen5(new Uint8Array(40));
    expect(report.ok).toBe(false);
    expect(report.failures).toEqual([expect.stringMatching(/^header: BAD_MAGIC/)]);
  });

  describe('regeneration from the key', () => {
    const withKey = () => sampleFile({ extra: { lob_provenance: { key: { profile: 'emoji', text: 'KEY-1' } } } });

    it('reports bit-identical when the renderer reproduces the stored PNG', async () => {
      const seen: string[] = [];
      const report = await verifyGen5(await withKey(), {
        regenerate: async (k) => {
          seen.push(k);
          return TINY_PNG;
        },
      });
      expect(seen).toEqual(['KEY-1']);
      expect(report.ok).toBe(true);
      expect(report.regeneration).toMatchObject({
        pngIdentical: true,
        pixelsIdentical: true,
        psnr: Number.POSITIVE_INFINITY,
      });
    });

    it('reports PSNR and the differing ENVC components when it does not', async () => {
      const other = TINY_PNG.slice();
      other[other.length - 1] ^= 0x10;
      const report = await verifyGen5(await withKey(), {
        regenerate: async () => other,
        decodePixels: pixels,
        currentEnvironment: [{ id: 'node', canonical: 'name=node;version=22' }],
      });
      expect(report.ok).toBe(false);
      expect(report.regeneration?.pixelsIdentical).toBe(false);
      expect(report.regeneration?.psnr).toBeCloseTo(10 * Math.log10(255 ** 2 / 16 ** 2), 6);
      expect(report.regeneration?.differingComponents.map((d) => d.componentId)).toEqual(['node']);
      expect(report.failures).toEqual([
        expect.stringMatching(
          /^regeneration: the regenerated image differs from the stored one: PSNR 24\.\d\d dB; environment differs in: node$/,
        ),
      ]);
    });

    it('fails clearly when the file carries no key or the renderer throws', async () => {
      const noKey = await verifyGen5(await sampleFile(), { regenerate: async () => TINY_PNG });
      expect(noKey.failures).toEqual([expect.stringMatching(/^regeneration: no key in META/)]);
      const broken = await verifyGen5(await withKey(), {
        regenerate: async () => {
          throw new Error('model missing');
        },
      });
      expect(broken.failures).toEqual(['regeneration: rendering the key failed: model missing']);
    });
  });
});
