import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadProfile, ProfileError, type ProfileJson, SD_LOB_PROFILE, sdLobProfile } from '../../keyspace/index.ts';
import { small } from './helpers.ts';
import { syntheticProfileJson } from './synthetic.ts';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function expectProfileError(json: unknown, path: string, message: RegExp): void {
  let caught: unknown;
  try {
    loadProfile(json);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProfileError);
  expect((caught as ProfileError).path).toBe(path);
  expect((caught as ProfileError).message).toMatch(message);
}

describe('loadProfile', () => {
  it('builds sd-lob: 6 + 59,134×15 + 16,640×15 bits = 189,436 characters, no prefix', () => {
    const p = sdLobProfile();
    expect(p.bits).toBe(1_136_616);
    expect(p.chars).toBe(189_436);
    expect(p.prefix).toBe('');
    expect(p.embedding.stored.length).toBe(59_134);
    expect(p.embedding.float16Exact).toBe(true);
    expect(p.latent.float16Exact).toBe(true);
  });

  it('an emoji-shaped profile: 2 + 1023×4 + 1024×4 bits = 1365 characters after the prefix', () => {
    const p = loadProfile(syntheticProfileJson());
    expect(p.bits).toBe(8190);
    expect(p.chars).toBe(1365);
    expect(p.prefix).toBe('synth-1.');
    expect(p.embedding.stored.length).toBe(1023);
    expect(p.latent.widened.count).toBe(0);
    expect(p.latent.float16Exact).toBe(false);
  });

  it('widens the first values of the latent so a prefixed payload is a whole number of characters', () => {
    // 18×3 + 1 + 11×6 = 121 bits: five latent values get a fourth bit → 126 bits = 21 characters.
    expect(small.bits).toBe(126);
    expect(small.chars).toBe(21);
    expect(small.latent.widened.count).toBe(5);
    expect(small.latent.widened.coding.bits).toBe(4);
    expect(small.embedding.widened.count).toBe(0);
    expect(small.embedding.float16Exact).toBe(true); // e3m2 values (2^-4 … 2^4) and the constant -3.5 are float16s
    expect(small.latent.float16Exact).toBe(false);
  });

  it('the committed synthetic fixture is what the generator makes', () => {
    const file = JSON.parse(readFileSync(new URL('../fixtures/keyspace/synth.json', import.meta.url), 'utf8'));
    expect(file).toEqual(syntheticProfileJson());
  });

  it('names the first problem with its path', () => {
    const base = syntheticProfileJson();
    expectProfileError({ ...base, format: 'x' }, '/format', /lob-keyspace-profile\/1/);
    expectProfileError({ ...base, id: 'Emoji' }, '/id', /a-z0-9/);
    expectProfileError({ ...base, version: 1.5 }, '/version', /integer/);
    const steps = clone(base);
    (steps.sections[0] as { values: number[] }).values = [8, 12, 16];
    expectProfileError(steps, '/sections/0/values', /power of 2, got 3/);
    const noLatent = clone(base);
    noLatent.sections.pop();
    expectProfileError(noLatent, '/sections', /needs a latent section/);
    const table = clone(base) as ProfileJson;
    const emb = table.sections[1] as { coding: { distribution: { quantiles: number[][] } } };
    emb.coding.distribution.quantiles[7][3] = -99;
    expectProfileError(table, '/sections/1/coding/distribution/quantiles/7/3', /must not decrease/);
    const short = clone(base) as ProfileJson;
    (short.sections[1] as { coding: { distribution: { quantiles: number[][] } } }).coding.distribution.quantiles.pop();
    expectProfileError(short, '/sections/1/coding/distribution/quantiles', /one table per value \(1024\)/);
    const constant = clone(SD_LOB_PROFILE);
    constant.constants = [{ section: 'embedding', index: 77 * 768, value: 1 }];
    expectProfileError(constant, '/constants/0/index', /0\.\.59135/);
    const wide = clone(SD_LOB_PROFILE);
    (wide.sections[2] as { coding: { bias: number } }).coding.bias = 200;
    expectProfileError(wide, '/sections/2/coding/bias', /not exact in float32/);
    const bare = clone(SD_LOB_PROFILE);
    (bare.sections[0] as { values: number[] }).values = [1, 2];
    expectProfileError(bare, '/sections', /multiple of 24 bits/);
  });
});
