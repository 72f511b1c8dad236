import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5 } from '../../gen5/encode.ts';
import { currentEnvironment } from '../../lib/environment.ts';
import { decodeNpy } from '../../lib/npy.ts';
import { buildGen5Input } from '../../lib/provenance.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { keyFor, TINY_SD15 } from '../pipeline/helpers.ts';
import { assemble, envcPayload, FIXTURE_DIR, f32Bytes, sampleFile, sha256 } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function lob(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lob.mjs'), 'gen5', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let model: Model;
let rendered: string; // a .gen5 file of a real render of the tiny SD 1.5-interface model, with provenance
let pngSha: string;
let profileId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lob-gen5-cli-'));
  model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
  const result = await renderKey(model, await keyFor(model, 'a red cat', 7, 2));
  pngSha = result.pngSha256;
  profileId = result.profileId;
  const environment = await currentEnvironment({
    executionProvider: model.settings.executionProvider,
    modelFiles: model.folder.files,
  });
  rendered = join(dir, 'render.gen5');
  writeFileSync(rendered, await encodeGen5(buildGen5Input(result, { environment, prompt: 'a red cat' })));
});
afterAll(async () => {
  await model?.release();
});

describe('lob gen5 (spawned)', () => {
  it('verify --model regenerates the image from the key, bit for bit', () => {
    const r = lob('verify', rendered, '--model', TINY_SD15);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok   regeneration: the key regenerates the stored image bit for bit');
    expect(r.stdout).toMatch(/all 11 checks passed/);
  });

  it('verify exits 1 with the list of failures', async () => {
    const bad = join(dir, 'bad.gen5');
    const latn = {
      type: 'LATN',
      flags: 'F32\0',
      payload: f32Bytes(4),
      compressed: false,
      extra: { shape: [1, 1, 2, 2], dtype: 'float32', key: 'a' },
    };
    writeFileSync(
      bad,
      await assemble([latn, { type: 'ENVC', flags: '0000', payload: envcPayload([]), compressed: true }], {
        meta: (m) => {
          m.gen5_metadata.chunks[0].hash = '0'.repeat(64);
        },
      }),
    );
    const r = lob('verify', bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL chunk 0 (LATN "a"): HASH_MISMATCH');
    expect(r.stderr).toMatch(
      /bad\.gen5: 1 check\(s\) failed:\n {2}- chunk 0 \(LATN "a"\): HASH_MISMATCH: chunk 0 \(LATN\): SHA-256 of the payload is/,
    );
  });

  it('inspect --json shows header, chunks, metadata, provenance and drift', () => {
    const r = lob('inspect', rendered, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.header).toMatchObject({ magic: 'GEN5', versionMajor: 1, chunkCount: 5, reserved: '0' });
    expect(out.chunks.map((c: { type: string }) => c.type)).toEqual(['LATN', 'LATN', 'LATN', 'DATA', 'ENVC']);
    expect(out.provenance).toMatchObject({ key: { profile: profileId }, image_sha256: pngSha });
    expect(out.metadata.gen5_metadata.model_info.prompt).toBe('a red cat');
    // Without --model there is nothing to compare the model files with: no drift for them, a note instead.
    const drift = out.drift.map((d: { message: string }) => d.message).join('\n');
    expect(drift).not.toContain('model_file:');
    expect(out.notes).toContain(
      `${Object.keys(model.folder.files).length} model file(s) not compared: give --model DIR to compare them with a model folder`,
    );
  });

  it('inspect --model compares the model files: none drift for the folder that rendered it, all for another', () => {
    const same = JSON.parse(lob('inspect', rendered, '--json', '--model', TINY_SD15).stdout);
    expect(same.drift.filter((d: { componentId: string }) => d.componentId.startsWith('model_file:'))).toEqual([]);
    const other = lob('inspect', rendered, '--model', join(ROOT, 'test/fixtures/tiny-emoji'));
    expect(other.code).toBe(0);
    expect(other.stdout).toContain("Environment component 'model_file:unet/model.onnx' differs");
    expect(lob('inspect', rendered, '--model', join(dir, 'nope')).code).toBe(3);
  });

  it('inspect prints a readable summary, and a typed error for a broken file', () => {
    const r = lob('inspect', join(FIXTURE_DIR, 'f16-two-latents-raw-7.gen5'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '1 LATN F16  @2092 2060 B stored, 2048 B payload  sha256 af5ca10090218dae… final_latent float16 [1, 4, 16, 16]',
    );
    expect(r.stdout).toContain("Environment component 'python' missing in current system");
    const broken = join(dir, 'broken.gen5');
    writeFileSync(broken, readFileSync(join(FIXTURE_DIR, 'no-image-7.gen5')).subarray(0, 100));
    const b = lob('inspect', broken);
    expect(b.code).toBe(1);
    expect(b.stderr).toBe('lob: TRUNCATED: file is 100 bytes but its header says 1428: truncated\n');
  });

  it('extract writes the image, latents as .npy with stored dtype and shape, META and ENVC as stored; pack rebuilds the file', async () => {
    const out = join(dir, 'x');
    const e = lob('extract', join(FIXTURE_DIR, 'f16-two-latents-raw-7.gen5'), '--out', out);
    expect(e.code).toBe(0);
    const original = await decodeGen5(readFileSync(join(FIXTURE_DIR, 'f16-two-latents-raw-7.gen5')));
    expect(readFileSync(join(out, 'image.png'))).toEqual(Buffer.from(original.image as Uint8Array));
    expect(readFileSync(join(out, 'metadata.json'), 'utf8')).toBe(original.metaText);
    expect(readFileSync(join(out, 'env.json'), 'utf8')).toBe(original.envc?.text);
    const npy = decodeNpy(readFileSync(join(out, 'latents', 'final_latent.npy')));
    expect([npy.dtype, npy.shape]).toEqual(['<f2', [1, 4, 16, 16]]);

    const packed = join(dir, 'packed.gen5');
    const p = lob(
      'pack',
      '--meta',
      join(out, 'metadata.json'),
      '--latent',
      `initial_noise=${join(out, 'latents', 'initial_noise.npy')}`,
      '--latent',
      `final_latent=${join(out, 'latents', 'final_latent.npy')}`,
      '--image',
      join(out, 'image.png'),
      '--no-compress',
      '-o',
      packed,
    );
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const again = await decodeGen5(readFileSync(packed));
    expect(again.latents.map((l) => [l.name, l.dtype, l.shape, sha256(l.data)])).toEqual(
      original.latents.map((l) => [l.name, l.dtype, l.shape, sha256(l.data)]),
    );
    expect(again.image).toEqual(original.image);
    expect(again.records.map((r) => r.compressed)).toEqual([false, false, true, true]);
    // model_info comes through unchanged, floats included (eta 0.0, ram_gb 24.0).
    const infoText = (t: string) => t.slice(t.indexOf('"model_info"'), t.indexOf('"chunks"'));
    expect(infoText(again.metaText)).toBe(infoText(original.metaText));
    expect(lob('verify', packed).code).toBe(0);
  });

  it('pack takes bare model_info fields, --float16, and refuses what gen5 cannot hold', async () => {
    const out = join(dir, 'y');
    lob('extract', rendered, '--out', out);
    writeFileSync(
      join(out, 'meta.json'),
      JSON.stringify({ model_name: 'm', version: '1', date: '2026-01-01T00:00:00+00:00', prompt: 'p', tags: [] }),
    );
    const packed = join(dir, 'f16.gen5');
    const p = lob(
      'pack',
      '--meta',
      join(out, 'meta.json'),
      '--latent',
      `z=${join(out, 'latents', 'final_latent.npy')}`,
      '--float16',
      '-o',
      packed,
    );
    expect(p.code).toBe(0);
    const file = await decodeGen5(readFileSync(packed));
    expect(file.latents.map((l) => [l.name, l.dtype, l.shape])).toEqual([['z', 'float16', [1, 4, 64, 64]]]);
    expect(file.records.map((r) => r.type)).toEqual(['LATN', 'ENVC']);
    const noLatent = lob('pack', '--meta', join(out, 'meta.json'), '-o', packed);
    expect(noLatent.code).toBe(2);
    writeFileSync(join(out, 'bad.json'), JSON.stringify({ model_name: 'm' }));
    const schema = lob(
      'pack',
      '--meta',
      join(out, 'bad.json'),
      '--latent',
      `z=${join(out, 'latents', 'final_latent.npy')}`,
      '-o',
      packed,
    );
    expect(schema.code).toBe(1);
    expect(schema.stderr).toMatch(
      /^lob: SCHEMA: META fails the gen5 0.1.0 schema at \/gen5_metadata\/model_info: must have required property 'version'/,
    );
  });

  it('extract refuses latent names that would escape the output folder', async () => {
    const evil = join(dir, 'evil.gen5');
    writeFileSync(
      evil,
      await sampleFile({
        latents: [{ name: '../../escape', dtype: 'float32', shape: [1, 1, 1, 2], data: f32Bytes(2) }],
      }),
    );
    const r = lob('extract', evil, '--out', join(dir, 'evil-out'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('latent name "../../escape" is not a safe file name; nothing extracted');
  });
});
