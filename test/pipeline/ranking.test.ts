import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../pipeline/errors.ts';
import type { SearchRanking } from '../../pipeline/model/search-ranking.ts';
import { candidateScore, cosine } from '../../pipeline/render/ranking.ts';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};
const flat = (rows: Float32Array[]) => {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => {
    out.set(r, i * r.length);
  });
  return out;
};
const ranking = (rows: Float32Array[], scale = 30): SearchRanking => ({
  scale,
  names: rows.map((_, i) => `name ${i}`),
  embeds: flat(rows),
  prototypes: null,
  targetTemperature: null,
  dim: rows[0].length,
  file: 'config.json',
});
/** Format 2: the names' text rows and their pictures' prototypes. */
const byPictures = (texts: Float32Array[], pictures: Float32Array[], scale = 10, targetTemperature = 100) => ({
  ...ranking(texts, scale),
  prototypes: flat(pictures),
  targetTemperature,
});
const logShare = (image: Float32Array, target: Float32Array, rows: Float32Array[], scale: number) => {
  const logits = [target, ...rows].map((e) => scale * cosine(image, e));
  return logits[0] - Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
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
    expect(score(generic)).toBeCloseTo(want, 6);
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

  it('refuses references of another width than the text or image encoder, naming the file', () => {
    expect(() => candidateScore(unit(1, 0), ranking(neighbours))).toThrow(ModelLoadError);
    expect(() => candidateScore(unit(1, 0), ranking(neighbours))).toThrow(/config.json: holds 3-wide embeddings/);
    const score = candidateScore(prompt, ranking(neighbours));
    expect(() => score(unit(1, 0))).toThrow(/holds 3-wide embeddings, but the image encoder's image_embeds are 2 wide/);
  });
});

describe('ranking search candidates by pictures (format 2 prototypes)', () => {
  // three names whose text states are alike (as flags' are) but whose pictures differ
  const texts = [unit(1, 0.3, 0), unit(1, -0.3, 0), unit(1, 0, 0.3)];
  const pictures = [unit(0, 1, 0), unit(0, 0, 1), unit(1, 0, 0)];

  it("scores a name's prompt by the share of that name's prototype among all prototypes", () => {
    const score = candidateScore(texts[0], byPictures(texts, pictures, 10, 1000));
    for (const image of [unit(0.1, 1, 0.2), unit(0.5, 0.5, 0.5), unit(0, 0.3, 1)])
      expect(score(image)).toBeCloseTo(logShare(image, pictures[0], pictures, 10), 5);
    // a picture like the first name's beats one like its text-near neighbour's
    expect(score(unit(0.1, 1, 0))).toBeGreaterThan(score(unit(0.1, 0, 1)));
  });

  it("mixes the prototypes of the names a free prompt's words are near, by the target temperature", () => {
    const between = unit(1, 0.15, 0.15); // as near the first and third names' texts, farther from the second
    const w = [texts[0], texts[1], texts[2]].map((t) => Math.exp(2 * cosine(between, t)));
    const mix = unit(...[0, 1, 2].map((i) => pictures.reduce((s, p, r) => s + w[r] * p[i], 0)));
    const score = candidateScore(between, byPictures(texts, pictures, 10, 2));
    for (const image of [unit(0.1, 1, 0.2), unit(1, 0.2, 0.5)])
      expect(score(image)).toBeCloseTo(logShare(image, mix, pictures, 10), 5);
    // at a sharp temperature the target is the nearest name's prototype alone
    const sharp = candidateScore(texts[2], byPictures(texts, pictures, 10, 1000));
    expect(sharp(unit(1, 0.2, 0.5))).toBeCloseTo(logShare(unit(1, 0.2, 0.5), pictures[2], pictures, 10), 5);
  });
});
