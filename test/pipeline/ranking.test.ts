import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../pipeline/errors.ts';
import type { SearchRanking } from '../../pipeline/model/search-ranking.ts';
import { candidateScore, cosine } from '../../pipeline/render/ranking.ts';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};
const ranking = (rows: Float32Array[], scale = 30): SearchRanking => {
  const embeds = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => {
    embeds.set(r, i * r.length);
  });
  return { scale, names: rows.map((_, i) => `name ${i}`), embeds, dim: rows[0].length, file: 'config.json' };
};

describe('ranking search candidates', () => {
  const prompt = unit(1, 0, 0);
  const neighbours = [unit(0.9, 0.44, 0), unit(0.9, -0.44, 0), unit(0, 0, 1)];
  // `generic` sits nearer the prompt but as near its neighbours; `specific` is a little farther and alone
  const generic = unit(1, 0.25, 0);
  const specific = unit(1, 0, -0.3);

  it('without references is the cosine to the prompt, which prefers the generic picture', () => {
    const score = candidateScore(prompt, null);
    expect(score(generic)).toBeCloseTo(cosine(generic, prompt), 12);
    expect(score(generic)).toBeGreaterThan(score(specific));
  });

  it('with references is log p(prompt | image), which prefers the picture that is the prompt, not its neighbours', () => {
    const score = candidateScore(prompt, ranking(neighbours));
    expect(score(specific)).toBeGreaterThan(score(generic));
    const logits = [prompt, ...neighbours].map((e) => 30 * cosine(generic, e));
    const want = logits[0] - Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
    expect(score(generic)).toBeCloseTo(want, 9);
    expect(score(generic)).toBeLessThan(0);
  });

  it('ranks alike whether or not the prompt is itself a reference name', () => {
    const without = candidateScore(prompt, ranking(neighbours));
    const withPrompt = candidateScore(prompt, ranking([...neighbours, prompt]));
    const pictures = [generic, specific, unit(0.7, 0.7, 0.1), unit(0.99, 0.1, 0)];
    const order = (f: (x: Float32Array) => number) =>
      pictures.map((_, i) => i).sort((a, b) => f(pictures[b]) - f(pictures[a]));
    expect(order(withPrompt)).toEqual(order(without));
  });

  it('refuses references of another width than the text encoder, naming the file', () => {
    expect(() => candidateScore(unit(1, 0), ranking(neighbours))).toThrow(ModelLoadError);
    expect(() => candidateScore(unit(1, 0), ranking(neighbours))).toThrow(/config.json: holds 3-wide embeddings/);
  });
});
