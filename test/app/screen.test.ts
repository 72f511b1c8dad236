import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../app/ui/api.ts';
import { abilities, characterCount, initialScreen, type Screen, screen } from '../../app/ui/screen.ts';

const model: ModelInfo = {
  name: 'm',
  version: '1',
  profileId: 'p-1',
  strides: [{ name: 'page', label: 'page' }],
  bestOfMax: 8,
};
const run = (...actions: Parameters<typeof screen>[1][]): Screen => actions.reduce(screen, initialScreen);
const dog = { prompt: 'dog', bestOf: 4, avoid: '' };

describe('the screen reducer', () => {
  it('a failed first key (a bad share link) leaves nothing to browse, copy or download', () => {
    const s = run({ type: 'model', model }, { type: 'failed', message: 'not a key' });
    expect(s.shown).toBeNull();
    expect(abilities(s)).toEqual({ browse: false, share: false });
    expect(s.error).toBe('not a key');
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
      expect(after.query).toEqual({ prompt: '', bestOf: 4, avoid: '' }); // the box empties, the best-of choice stays
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
