// models/emoji/keyspace.json is a well-formed keyspace profile (docs/contracts.md) whose embedding statistics
// describe the shipped text encoder's real outputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', '..', 'models', 'emoji');
const profile = JSON.parse(readFileSync(join(DIR, 'keyspace.json'), 'utf8'));
const index = JSON.parse(readFileSync(join(DIR, 'model_index.json'), 'utf8'));
const ref = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'model', 'reference.json'), 'utf8'));
const section = (kind: string) => profile.sections.find((s: { kind: string }) => s.kind === kind);

describe('keyspace.json', () => {
  it('has the profile header and names the model', () => {
    expect(profile.format).toBe('lob-keyspace-profile/1');
    expect(profile.id).toMatch(/^[a-z0-9]+$/);
    expect(Number.isInteger(profile.version)).toBe(true);
    expect(profile.model).toBe(index.lob.name);
    expect(profile.sections.map((s: { kind: string }) => s.kind)).toEqual(['steps', 'embedding', 'latent']);
  });

  it('has a power-of-two count of increasing step values', () => {
    const { values } = section('steps');
    expect(Math.log2(values.length) % 1).toBe(0);
    expect(values.every((v: number, i: number) => Number.isInteger(v) && v > 0 && (i === 0 || v > values[i - 1]))).toBe(
      true,
    );
  });

  it('codes the [16, 64] embedding with 4-bit empirical quantiles at (i + 0.5) / 64', () => {
    const s = section('embedding');
    expect(s.shape).toEqual([16, 64]);
    expect(s.coding).toMatchObject({ type: 'quantile', bits: 4, distribution: { type: 'empirical' } });
    const { probabilities, quantiles } = s.coding.distribution;
    expect(probabilities).toHaveLength(64);
    probabilities.forEach((p: number, i: number) => {
      expect(p).toBeCloseTo((i + 0.5) / 64, 12);
    });
    expect(quantiles).toHaveLength(16 * 64);
    const bad = quantiles.filter(
      (q: number[]) => q.length !== 64 || !q.every((v, i) => Number.isFinite(v) && (i === 0 || v >= q[i - 1])),
    );
    expect(bad).toHaveLength(0);
  });

  it('codes the [1, 4, 16, 16] latent with 4-bit standard-normal quantiles', () => {
    expect(section('latent')).toMatchObject({
      shape: [1, 4, 16, 16],
      coding: { type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } },
    });
  });

  it('lists only valid constant coordinates', () => {
    for (const c of profile.constants) {
      expect(c.section).toBe('embedding');
      expect(Number.isInteger(c.index) && c.index >= 0 && c.index < 1024).toBe(true);
      const q = section('embedding').coding.distribution.quantiles[c.index];
      expect(q[q.length - 1] - q[0]).toBeLessThan(1e-6);
    }
  });

  it('spans the text encoder outputs of real captions', async () => {
    const s = await ort.InferenceSession.create(join(DIR, 'text_encoder', 'model.onnx'));
    const ids: number[][] = ref.input_ids;
    const r = await s.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat().map(BigInt)), [ids.length, 16]),
    });
    const h = r.last_hidden_state.data as Float32Array;
    const { quantiles } = section('embedding').coding.distribution;
    let inside = 0;
    for (let i = 0; i < h.length; i++) {
      const q = quantiles[i % 1024];
      if (h[i] >= q[0] - 1e-6 && h[i] <= q[63] + 1e-6) inside++;
    }
    // the tables run from the 0.8th to the 99.2nd percentile, so most (not all) real values fall inside
    expect(inside / h.length).toBeGreaterThan(0.9);
  });
});
