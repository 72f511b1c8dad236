import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../../lib/npy.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures');
const work = mkdtempSync(join(tmpdir(), 'lob-key-cli-'));
const modelDir = join(work, 'model');
mkdirSync(modelDir);
copyFileSync(join(fixtures, 'keyspace/synth.json'), join(modelDir, 'keyspace.json'));

/** Runs `lob key ...` with the synthetic profile as the default model's keyspace. */
function lob(args: string[], opts: { input?: string; model?: string } = {}) {
  const res = spawnSync(process.execPath, [join(root, 'bin/lob.mjs'), 'key', ...args], {
    cwd: root,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, LOB_MODEL: opts.model ?? modelDir },
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const packedKey = join(fixtures, 'sd-lob/packed-11-1.key');
const packed = JSON.parse(readFileSync(join(fixtures, 'sd-lob/packed-11-1.json'), 'utf8'));

describe('lob key (sd-lob, 189,436-character keys)', () => {
  const npyDir = join(work, 'npy');

  it('decode @FILE --npy writes float16 arrays with the seed hashes and prints the JSON', () => {
    const { code, out, err } = lob(['decode', `@${packedKey}`, '--npy', npyDir]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const info = JSON.parse(out);
    expect(info).toMatchObject({ profile: 'sd-lob', version: 1, chars: 189_436, bits: 1_136_616, steps: 24 });
    expect(
      info.sections.map((s: { name: string; shape: number[]; dtype: string }) => [s.name, s.shape, s.dtype]),
    ).toEqual([
      ['embedding', [77, 768], 'float16'],
      ['latent', [1, 4, 52, 80], 'float16'],
    ]);
    expect(info.sections[0].stats.min).toBe(-28.078125);
    expect(info.sections[0].stats.max).toBe(33.09375);
    for (const [name, hash] of [
      ['embedding', packed.embedding_f16le_sha256],
      ['latent', packed.latent_f16le_sha256],
    ]) {
      const bytes = readFileSync(join(npyDir, `${name}.npy`));
      const array = decodeNpy(bytes);
      expect(array.dtype).toBe('<f2');
      expect(sha256(bytes.subarray(bytes.length - array.data.length * 2))).toBe(hash);
    }
  });

  it('encode of those arrays prints the identical key', () => {
    const { code, out } = lob([
      'encode',
      '--profile',
      'sd-lob',
      '--steps',
      '24',
      '--embedding',
      join(npyDir, 'embedding.npy'),
      '--latent',
      join(npyDir, 'latent.npy'),
    ]);
    expect(code).toBe(0);
    expect(out).toBe(`${readFileSync(packedKey, 'utf8')}\n`);
  });

  it('next reads the key from stdin (-) and prints the seed next key', () => {
    const { code, out } = lob(['next', '-'], { input: `${readFileSync(packedKey, 'utf8')}\n` });
    expect(code).toBe(0);
    expect(sha256(out.trimEnd())).toBe(packed.next_key_sha256);
  });

  it('encode rejects arrays of the wrong shape and steps the profile cannot store', () => {
    const bad = join(work, 'bad.npy');
    writeFileSync(bad, encodeNpy(new Float32Array(6), [2, 3]));
    const shape = lob(['encode', '--profile', 'sd-lob', '--steps', '24', '--embedding', bad, '--latent', bad]);
    expect(shape.code).toBe(2);
    expect(shape.err).toMatch(/shape 2×3 does not match embedding 77×768/);
  });
});

describe('lob key (our profiles)', () => {
  it('random defaults to the model profile; next/prev/distance agree', () => {
    const a = lob(['random', '--seed', '12']);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^synth-1\.[A-Za-z0-9_-]{1365}\n$/);
    const key = a.out.trim();
    const b = lob(['next', key, '--by', '5', '--stride', 'shelf']).out.trim();
    const d = lob(['distance', key, b]);
    expect(d.out).toBe(`${5n << BigInt(4 * 1024)}\n`);
    expect(lob(['prev', b, '--by', '5', '--stride', 'shelf']).out.trim()).toBe(key);
  });

  it('decode prints a human summary, or JSON and float32 .npy files that encode back to the key', () => {
    const key = lob(['random', '--seed', '3']).out.trim();
    const text = lob(['decode', key]);
    expect(text.out).toMatch(
      /^profile {2}synth v1 \(1373 chars, 8190 bits\)\nsteps {4}(8|12|16|24)\nembedding 16×64 float32 {2}min /,
    );
    const dir = join(work, 'synth-npy');
    const json = JSON.parse(lob(['decode', key, '--npy', dir]).out);
    expect(json.sections[1]).toMatchObject({
      name: 'latent',
      shape: [1, 4, 16, 16],
      dtype: 'float32',
      coding: { type: 'quantile', bits: 4, distribution: 'standard-normal' },
    });
    expect(decodeNpy(readFileSync(join(dir, 'latent.npy'))).dtype).toBe('<f4');
    const args = [
      '--steps',
      String(json.steps),
      '--embedding',
      join(dir, 'embedding.npy'),
      '--latent',
      join(dir, 'latent.npy'),
    ];
    expect(lob(['encode', '--profile', 'synth@1', ...args]).out).toBe(`${key}\n`);
  });

  it('a malformed key exits 2 naming the problem and its index', () => {
    const key = lob(['random', '--seed', '3']).out.trim();
    const broken = `${key.slice(0, 40)}*${key.slice(41)}`;
    const res = lob(['decode', broken]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/character "\*" at index 40 is not in the payload alphabet/);
    const stride = lob(['next', key, '--stride', 'room']);
    expect(stride.code).toBe(2);
    expect(stride.err).toMatch(/must be one of page, book, shelf, wall/);
  });

  it("knows the model profile's negative-prompt variant: decode writes negative.npy, encode --negative gives the key back", () => {
    const key = lob(['random', '--profile', 'synth-neg', '--seed', '5']).out.trim();
    expect(key.startsWith('synth-neg-1.')).toBe(true);
    const dir = join(work, 'neg-npy');
    const info = JSON.parse(lob(['decode', key, '--npy', dir]).out);
    expect(info.sections.map((s: { kind: string }) => s.kind)).toEqual(['embedding', 'latent', 'negative']);
    const args = ['--steps', String(info.steps), '--embedding', join(dir, 'embedding.npy')];
    args.push('--latent', join(dir, 'latent.npy'), '--negative', join(dir, 'negative.npy'));
    expect(lob(['encode', '--profile', 'synth-neg', ...args]).out).toBe(`${key}\n`);
    const without = lob(['encode', '--profile', 'synth-neg', ...args.slice(0, -2)]);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/needs negative prompt states/);
  });

  it('knows the guidance variant: decode shows the scale, wall × 4 steps it, encode --guidance gives the key back', () => {
    const key = lob(['random', '--profile', 'synth-neg-cfg', '--seed', '5']).out.trim();
    expect(key.startsWith('synth-neg-cfg-1.')).toBe(true);
    const dir = join(work, 'cfg-npy');
    const info = JSON.parse(lob(['decode', key, '--npy', dir]).out);
    expect(info.guidance % 0.25).toBe(0);
    expect(lob(['decode', key]).out).toMatch(new RegExp(`\nsteps {4}${info.steps}\nguidance ${info.guidance}\n`));
    // four step counts: four walls move the scale alone, by 0.25 (wrapping from 16.75 to 1 at the library's end)
    const moved = JSON.parse(
      lob(['decode', lob(['next', key, '--stride', 'wall', '--by', '4']).out.trim(), '--json']).out,
    );
    expect([moved.steps, moved.guidance]).toEqual([info.steps, info.guidance === 16.75 ? 1 : info.guidance + 0.25]);
    const args = ['--steps', String(info.steps), '--embedding', join(dir, 'embedding.npy')];
    args.push('--latent', join(dir, 'latent.npy'), '--negative', join(dir, 'negative.npy'));
    expect(lob(['encode', '--profile', 'synth-neg-cfg', ...args, '--guidance', String(info.guidance)]).out).toBe(
      `${key}\n`,
    );
    const missing = lob(['encode', '--profile', 'synth-neg-cfg', ...args]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/needs a guidance scale/);
  });

  it('random without a model keyspace and without --profile says what to do', () => {
    const res = lob(['random'], { model: join(work, 'no-model') });
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/keyspace\.json is missing; pass --profile/);
  });
});
