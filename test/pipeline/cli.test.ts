import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomKey } from '../../keyspace/index.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { keyFor, TINY_EMOJI, TINY_SD15 } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lob-cli-'));
let key: string;
let expectedSha: string;
let searched: string;
let emojiRandom: string;

function lob(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lob.mjs'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
  key = await keyFor(model, 'the red cat', 5, 3);
  expectedSha = (await renderKey(model, key)).pngSha256;
  searched = (await searchKey(model, 'the red cat', { seed: 5 })).key;
  await model.release();
  const emoji = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
  emojiRandom = randomKey(emoji.profile, 3n);
  await emoji.release();
  writeFileSync(join(tmp, 'key.txt'), `${key}\n`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lob render / search / random', () => {
  it('render: another process with another thread count writes the same PNG and prints its SHA-256', () => {
    const out = join(tmp, 'a.png');
    const r = lob(['render', `@${join(tmp, 'key.txt')}`, '-o', out, '--model', TINY_SD15, '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(expectedSha);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(expectedSha);
    // the key can come from stdin too
    const s = lob(['render', '-', '-o', join(tmp, 'b.png'), '--model', TINY_SD15, '--threads', '1'], key);
    expect(s.stdout.trim()).toBe(expectedSha);
  });

  it('render --gen5 writes a .gen5 whose provenance holds the key and the PNG', async () => {
    const { decodeGen5 } = await import('../../gen5/index.ts');
    const { readProvenance } = await import('../../lib/provenance.ts');
    const png = join(tmp, 'g.png');
    const gen5 = join(tmp, 'g.gen5');
    const r = lob([
      'render',
      `@${join(tmp, 'key.txt')}`,
      '-o',
      png,
      '--gen5',
      gen5,
      '--model',
      TINY_SD15,
      '--threads',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const file = await decodeGen5(new Uint8Array(readFileSync(gen5)));
    const prov = readProvenance(file);
    expect(prov?.key.text).toBe(key);
    expect(prov?.image_sha256).toBe(expectedSha);
    expect(prov?.pipeline).toMatchObject({
      scheduler: 'PNDMScheduler',
      steps: 3,
      guidance: 7.5,
      executionProvider: 'cpu',
    });
  });

  it('search prints the key as its last line (the same key as in-process) and the seed on stderr', () => {
    const r = lob(['search', 'the red cat', '--seed', '5', '--model', TINY_SD15]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(searched);
    expect(r.stderr).toContain('seed 5');
  });

  it('random is reproducible with --seed', () => {
    const a = lob(['random', '--seed', '3', '--model', TINY_SD15]);
    const b = lob(['random', '--seed', '3', '--model', TINY_SD15]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^sd768-64x64-1\.[A-Za-z0-9_-]+\n$/);
    // a folder with keyspace.json: the profile is read without opening sessions, and it is the model's own
    expect(lob(['random', '--seed', '3', '--model', TINY_EMOJI]).stdout).toBe(`${emojiRandom}\n`);
  });

  it('runs from any folder (the README examples write into a temporary one), finding the checkout by itself', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lob.mjs'), 'random', '--seed', '7'], {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, LOB_ROOT: undefined },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(lob(['random', '--seed', '7']).stdout);
  });

  it('render --ep cuda without CUDA warns once, cleanly, and renders the same PNG on the CPU', () => {
    const r = lob([
      'render',
      `@${join(tmp, 'key.txt')}`,
      '-o',
      join(tmp, 'cuda.png'),
      '--model',
      TINY_SD15,
      '--ep',
      'cuda',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(expectedSha);
    expect(r.stderr).toMatch(/^lob: warning: execution provider cuda unavailable, falling back to cpu: /);
    expect(r.stderr).not.toContain('[E:onnxruntime');
    expect(r.stderr).not.toContain('\u001b['); // no coloured raw log line
  });

  it('walk lists the frame keys (from A to B) and writes an animated GIF or WebP with one page per frame', async () => {
    const other = lob(['random', '--seed', '4', '--model', TINY_EMOJI]).stdout.trim();
    const listed = lob(['walk', emojiRandom, other, '--frames', '5', '--keys', '--model', TINY_EMOJI]);
    expect(listed.code, listed.stderr).toBe(0);
    const keys = listed.stdout.trim().split('\n');
    expect(keys).toHaveLength(5);
    expect([keys[0], keys[4]]).toEqual([emojiRandom, other]);
    const { default: sharp } = await import('sharp');
    for (const ext of ['gif', 'webp']) {
      const out = join(tmp, `walk.${ext}`);
      const r = lob(['walk', emojiRandom, other, '--frames', '5', '-o', out, '--model', TINY_EMOJI]);
      expect(r.code, r.stderr).toBe(0);
      const meta = await sharp(out, { animated: true }).metadata();
      expect([meta.format, meta.pages, meta.pageHeight]).toEqual([ext, 5, 64]);
    }
    // the first frame of the animation is the first key's image
    const first = await sharp(join(tmp, 'walk.webp'), { page: 0 }).raw().toBuffer();
    lob(['render', emojiRandom, '-o', join(tmp, 'first.png'), '--model', TINY_EMOJI]);
    expect(first.equals(await sharp(join(tmp, 'first.png')).removeAlpha().raw().toBuffer())).toBe(true);
    expect(lob(['walk', emojiRandom, other, '-o', join(tmp, 'walk.mp4'), '--model', TINY_EMOJI]).code).toBe(2);
    expect(lob(['walk', emojiRandom, other, '--frames', '1', '--keys', '--model', TINY_EMOJI]).code).toBe(2);
  });

  it('exit codes: 2 for a bad key or usage, 3 for a missing or corrupt model', () => {
    const bad = lob(['render', 'sd768-64x64-1.AAAA', '-o', join(tmp, 'c.png'), '--model', TINY_SD15]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^lob: bad key: a key of profile sd768-64x64-1 needs \d+ payload characters/);
    const junk = lob(['render', 'not-a-key', '-o', join(tmp, 'c.png'), '--model', TINY_SD15]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(
      /^lob: bad key: "not-a-key" is not a key of any known profile: a key is .*"sd768-64x64-1\." and/,
    );
    expect(lob(['render', 'x', '--model', TINY_SD15]).code).toBe(2); // -o missing
    expect(lob(['search', 'x', '--best-of', 'many', '--model', TINY_SD15]).code).toBe(2);
    const missing = lob(['random', '--model', join(tmp, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^lob: model: .*nope: model folder does not exist/);
  });
});
