import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../pipeline/errors.ts';
import type { SearchRanking } from '../../pipeline/model/search-ranking.ts';
import { candidateScore, cosine, thumbnail } from '../../pipeline/render/ranking.ts';

/** The score of a candidate by its image embedding alone (its picture, unused without thumbnails, one pixel). */
const embedScore = (prompt: Float32Array, r: SearchRanking | null) => {
  const score = candidateScore(prompt, r);
  return (embeds: Float32Array) => score({ embeds, rgb: new Uint8Array(3), height: 1, width: 1 });
};
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
  thumbnails: null,
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
    const score = embedScore(prompt, null);
    expect(score(generic)).toBeCloseTo(cosine(generic, prompt), 12);
    expect(score(generic)).toBeGreaterThan(score(specific));
  });

  it('with references is log p(prompt | image), which prefers the picture that is the prompt, not its neighbours', () => {
    const score = embedScore(prompt, ranking(neighbours));
    expect(score(specific)).toBeGreaterThan(score(generic));
    const logits = [prompt, ...neighbours].map((e) => 30 * cosine(generic, e));
    const want = logits[0] - Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
    expect(score(generic)).toBeCloseTo(want, 6);
    expect(score(generic)).toBeLessThan(0);
  });

  it('ranks alike whether or not the prompt is itself a reference name', () => {
    const without = embedScore(prompt, ranking(neighbours));
    const withPrompt = embedScore(prompt, ranking([...neighbours, prompt]));
    const pictures = [generic, specific, unit(0.7, 0.7, 0.1), unit(0.99, 0.1, 0)];
    const order = (f: (x: Float32Array) => number) =>
      pictures.map((_, i) => i).sort((a, b) => f(pictures[b]) - f(pictures[a]));
    expect(order(withPrompt)).toEqual(order(without));
  });

  it('refuses references of another width than the text or image encoder, naming the file', () => {
    expect(() => embedScore(unit(1, 0), ranking(neighbours))).toThrow(ModelLoadError);
    expect(() => embedScore(unit(1, 0), ranking(neighbours))).toThrow(/config.json: holds 3-wide embeddings/);
    const score = embedScore(prompt, ranking(neighbours));
    expect(() => score(unit(1, 0))).toThrow(/holds 3-wide embeddings, but the image encoder's image_embeds are 2 wide/);
  });
});

describe('ranking search candidates by pictures (format 2 prototypes)', () => {
  // three names whose text states are alike (as flags' are) but whose pictures differ
  const texts = [unit(1, 0.3, 0), unit(1, -0.3, 0), unit(1, 0, 0.3)];
  const pictures = [unit(0, 1, 0), unit(0, 0, 1), unit(1, 0, 0)];

  it("scores a name's prompt by the share of that name's prototype among all prototypes", () => {
    const score = embedScore(texts[0], byPictures(texts, pictures, 10, 1000));
    for (const image of [unit(0.1, 1, 0.2), unit(0.5, 0.5, 0.5), unit(0, 0.3, 1)])
      expect(score(image)).toBeCloseTo(logShare(image, pictures[0], pictures, 10), 5);
    // a picture like the first name's beats one like its text-near neighbour's
    expect(score(unit(0.1, 1, 0))).toBeGreaterThan(score(unit(0.1, 0, 1)));
  });

  it("mixes the prototypes of the names a free prompt's words are near, by the target temperature", () => {
    const between = unit(1, 0.15, 0.15); // as near the first and third names' texts, farther from the second
    const w = [texts[0], texts[1], texts[2]].map((t) => Math.exp(2 * cosine(between, t)));
    const mix = unit(...[0, 1, 2].map((i) => pictures.reduce((s, p, r) => s + w[r] * p[i], 0)));
    const score = embedScore(between, byPictures(texts, pictures, 10, 2));
    for (const image of [unit(0.1, 1, 0.2), unit(1, 0.2, 0.5)])
      expect(score(image)).toBeCloseTo(logShare(image, mix, pictures, 10), 5);
    // at a sharp temperature the target is the nearest name's prototype alone
    const sharp = embedScore(texts[2], byPictures(texts, pictures, 10, 1000));
    expect(sharp(unit(1, 0.2, 0.5))).toBeCloseTo(logShare(unit(1, 0.2, 0.5), pictures[2], pictures, 10), 5);
  });
});

describe('ranking search candidates by pixels (format 2 thumbnails)', () => {
  it('shrinks a picture by averaging each cell, as adaptive average pooling cuts cells, into [-1, 1]', () => {
    // 4×4: each 2×2 quadrant one colour
    const colours = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ];
    const rgb = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) rgb.set(colours[(y >> 1) * 2 + (x >> 1)], (y * 4 + x) * 3);
    expect(Array.from(thumbnail(rgb, 4, 4, 2))).toEqual([1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1]);
    expect(Array.from(thumbnail(rgb, 4, 4, 1)).map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 0, 0]);
    // 3 wide into 2 cells: columns [0, 2) and [1, 3) overlap in the middle one
    const row = Uint8Array.from([0, 0, 0, 51, 51, 51, 255, 255, 255]);
    const cells = thumbnail(row, 1, 3, 2);
    expect(cells[0]).toBeCloseTo((25.5 / 255) * 2 - 1, 6);
    expect(cells[3]).toBeCloseTo((153 / 255) * 2 - 1, 6);
  });

  it("adds the prompt's share by pixel distance to each name's thumbnail", () => {
    const texts = [unit(1, 0.3, 0), unit(1, -0.3, 0), unit(1, 0, 0.3)];
    const same = unit(0, 1, 0); // every prototype alike: only the pixels tell the names apart
    const thumbs = [
      [1, -1, -1],
      [-1, -1, 1],
      [1, 1, 1],
    ]; // red, blue and white one-pixel thumbnails
    const r: SearchRanking = {
      ...ranking(texts, 10),
      prototypes: flat([same, same, same]),
      targetTemperature: 1000,
      thumbnails: { rows: Float32Array.from(thumbs.flat()), side: 1, temperature: 0.5 },
    };
    const score = candidateScore(texts[0], r);
    const picture = (c: number[]) => ({ embeds: same, rgb: Uint8Array.from(c), height: 1, width: 1 });
    const red = score(picture([255, 0, 0]));
    const blue = score(picture([0, 0, 255]));
    expect(red).toBeGreaterThan(blue);
    // by hand for a pinkish picture: the embedding share is log(1/4), the pixels' share follows the formula
    const pink = [255, 128, 128].map((v) => (v / 255) * 2 - 1);
    const logits = thumbs.map((t) => -t.reduce((s, v, i) => s + (v - pink[i]) ** 2, 0) / 3 / 0.5);
    const pixels = logits[0] - Math.log([logits[0], ...logits].reduce((s, l) => s + Math.exp(l), 0));
    expect(score(picture([255, 128, 128]))).toBeCloseTo(Math.log(1 / 4) + pixels, 5);
  });
});
