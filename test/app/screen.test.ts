import { describe, expect, it } from 'vitest';
import type { FoundPicture, ModelInfo } from '../../app/ui/api.ts';
import { abilities, characterCount, initialScreen, type Screen, screen } from '../../app/ui/screen.ts';

const model: ModelInfo = {
  name: 'm',
  version: '1',
  profileId: 'p-1',
  strides: [{ name: 'page', label: 'page' }],
  bestOfMax: 8,
  bestOfDefault: 2,
};
const run = (...actions: Parameters<typeof screen>[1][]): Screen => actions.reduce(screen, initialScreen);
const dog = { prompt: 'dog', bestOf: 4, avoid: '', guidance: 8 };

describe('the screen reducer', () => {
  it('a failed first key (a bad share link) leaves nothing to browse, copy or download', () => {
    const s = run({ type: 'model', model }, { type: 'failed', message: 'not a key' });
    expect(s.shown).toBeNull();
    expect(abilities(s)).toEqual({ browse: false, share: false });
    expect(s.error).toBe('not a key');
  });

  it('starts "Try" at the model’s own number of candidates; a later model answer keeps the reader’s choice', () => {
    expect(initialScreen.query.bestOf).toBe(1);
    const loaded = run({ type: 'model', model });
    expect(loaded.query.bestOf).toBe(2);
    const chosen = screen(loaded, { type: 'query', query: { ...loaded.query, bestOf: 8 } });
    expect(screen(chosen, { type: 'model', model: { ...model, bestOfDefault: 4 } }).query.bestOf).toBe(8);
  });

  it('keeps the search only while its result or a neighbour is on show', () => {
    const searched = run(
      { type: 'model', model },
      { type: 'query', query: dog },
      { type: 'shown', key: 'k1', url: 'u1', via: 'search', query: dog },
      { type: 'shown', key: 'k2', url: 'u2', via: 'browse' },
    );
    expect(searched.lastQuery).toEqual(dog);
    expect(searched.query.prompt).toBe('dog');
    for (const via of ['random', 'import', 'open'] as const) {
      const after = screen(searched, { type: 'shown', key: 'k3', url: 'u3', via });
      expect(after.lastQuery).toBeNull();
      expect(after.query).toEqual({ prompt: '', bestOf: 4, avoid: '', guidance: 8 }); // the box empties, best-of and guidance stay
    }
  });

  it('while a render is pending the box, count and buttons stay with the image on show', () => {
    const s = run(
      { type: 'model', model },
      { type: 'shown', key: 'k1', url: 'u1', via: 'random' },
      { type: 'pending', pending: { label: 'Turning…', since: 0, watch: 'k2' } },
    );
    expect(s.draft).toBe('k1');
    expect(abilities(s)).toEqual({ browse: true, share: false });
    const done = screen(s, { type: 'shown', key: 'k2', url: 'u2', via: 'browse' });
    expect([done.draft, done.pending, abilities(done).share]).toEqual(['k2', null, true]);
  });

  it('the character count describes what the box holds', () => {
    const s = run({ type: 'shown', key: 'abcd', url: 'u', via: 'random' });
    expect(characterCount(s)).toBe('4 characters');
    expect(characterCount(screen(s, { type: 'draft', text: 'xyzxyzxyz' }))).toBe('9 characters typed (not opened yet)');
    expect(characterCount(screen(s, { type: 'draft', text: '' }))).toBe('\u00a0');
  });
});

describe('the screen reducer: find a picture', () => {
  const picture = { name: 'cat.png', blob: new Blob(['picture']) };
  const result: FoundPicture = {
    key: 'fine-1',
    profileId: 'p-fine-1',
    steps: 20,
    psnr: 24.5,
    ssim: 0.81,
    prompt: '',
    candidates: { tried: 12, planned: 12 },
    ms: 5200,
  };
  const image = new Blob(['png']);
  const finding = run(
    { type: 'model', model },
    { type: 'query', query: dog },
    { type: 'shown', key: 'k1', url: 'u1', via: 'search', query: dog },
    { type: 'finding', picture },
  );
  const found = screen(finding, {
    type: 'shown',
    key: 'fine-1',
    url: 'u2',
    via: 'find',
    find: { picture, result, image },
  });

  it('shows the picture at once, then how many candidates have been tried, while the image on show stays', () => {
    expect(finding.find).toEqual({ phase: 'finding', picture, done: 0, total: 0 });
    const later = screen(finding, { type: 'findProgress', done: 3, total: 12 });
    expect(later.find).toEqual({ phase: 'finding', picture, done: 3, total: 12 });
    expect([later.shown?.key, later.draft]).toEqual(['k1', 'k1']);
  });

  it('puts the found key on show with its result beside the picture, and the search goes', () => {
    expect(found.find).toEqual({ phase: 'found', picture, result, image, but: '' });
    expect([found.shown?.key, found.draft]).toEqual(['fine-1', 'fine-1']);
    expect(abilities(found)).toEqual({ browse: true, share: true });
    expect(found.lastQuery).toBeNull();
    expect(found.query.prompt).toBe('');
    // progress that arrives late (a line read after the result) changes nothing
    expect(screen(found, { type: 'findProgress', done: 12, total: 12 })).toBe(found);
  });

  it('keeps "Found in the library" while its key, a redraw of it or a neighbour is on show', () => {
    let s = screen(found, { type: 'but', text: 'a dog' });
    for (const [key, via] of [
      ['fine-2', 'rekey'],
      ['fine-3', 'browse'],
      ['fine-4', 'walk'],
      ['fine-1', 'find'],
    ] as const) {
      s = screen(s, { type: 'shown', key, url: key, via });
      expect(s.find, via).toEqual({ phase: 'found', picture, result, image, but: 'a dog' });
      expect(s.shown?.key).toBe(key);
    }
    for (const via of ['random', 'open', 'import', 'search'] as const)
      expect(screen(s, { type: 'shown', key: 'k9', url: 'u9', via }).find, via).toBeNull();
  });

  it('a failed redraw keeps the panel; a failed find (or one another action cut short) leaves none', () => {
    expect(screen(found, { type: 'failed', message: 'busy' }).find).toBe(found.find);
    const failed = screen(finding, { type: 'failed', message: 'this is not a PNG, JPEG, WebP or SVG picture' });
    expect([failed.find, failed.shown?.key, failed.error]).toEqual([
      null,
      'k1',
      'this is not a PNG, JPEG, WebP or SVG picture',
    ]);
    expect(screen(finding, { type: 'shown', key: 'k2', url: 'u', via: 'browse' }).find).toBeNull();
  });

  it('the "this picture, but …" box belongs to a found picture', () => {
    expect(screen(finding, { type: 'but', text: 'a dog' })).toBe(finding);
    expect(screen(found, { type: 'but', text: 'a dog' }).find).toMatchObject({ phase: 'found', but: 'a dog' });
  });
});
