import { describe, expect, it } from 'vitest';
import { MAX_SEEDS_PER_PROMPT, ManifestError, manifestFormat, parseManifest } from '../../lib/batch/rows.ts';

const jsonl = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

describe('batch manifest rows', () => {
  it('reads prompt, key and image rows with their line numbers and default names', () => {
    const rows = parseManifest(
      jsonl({ prompt: 'a cat', seed: 7, best_of: 2 }, '', { key: ' k1 ' }, { image: 'x.png', name: 'pic' }),
      'jsonl',
    );
    expect(rows.map((r) => [r.index, r.line, r.name])).toEqual([
      [0, 1, '000001'],
      [1, 3, '000003'],
      [2, 4, 'pic'],
    ]);
    expect(rows[0].source).toEqual({ kind: 'prompt', prompt: 'a cat', seed: 7n, bestOf: 2 });
    expect(rows[1].source).toEqual({ kind: 'key', key: 'k1' });
    expect(rows[2].source).toEqual({ kind: 'image', path: 'x.png' });
  });

  it('expands seeds per prompt into consecutive seeds, and applies the global settings rows do not set', () => {
    const rows = parseManifest(
      jsonl({ prompt: 'a cat', seeds: 3, seed: '18446744073709551615' }, { prompt: 'b' }),
      'jsonl',
      {
        negative: 'blue',
        steps: 12,
        seed: 5n,
      },
    );
    expect(rows.map((r) => r.name)).toEqual(['000001-0', '000001-1', '000001-2', '000002']);
    // 64-bit seeds wrap like the search's own seeds
    expect(rows.map((r) => (r.source as { seed: bigint }).seed)).toEqual([2n ** 64n - 1n, 0n, 1n, 5n]);
    expect(rows[3].source).toEqual({ kind: 'prompt', prompt: 'b', seed: 5n, steps: 12, negative: 'blue' });
  });

  it('keeps guidance in the source of prompt and key rows (the batch default where a row sets none), not image rows', () => {
    const rows = parseManifest(
      jsonl(
        { prompt: 'a', guidance: 2.5 },
        { prompt: 'b' },
        { key: 'k', guidance: '1' },
        { key: 'k2' },
        { image: 'x.png' },
      ),
      'jsonl',
      { guidance: 9 },
    );
    expect(rows.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(rows.map((r) => (r.source as { guidance?: number }).guidance)).toEqual([2.5, 9, 1, 9, undefined]);
    expect(parseManifest(jsonl({ key: 'k' }), 'jsonl')[0].source).toEqual({ kind: 'key', key: 'k' });
  });

  it('reads CSV with quoted cells; an empty cell means not given', () => {
    const csv = 'prompt,seed,negative_prompt,key\n"a cat, sitting",3,,\n,,,somekey\n';
    const rows = parseManifest(csv, 'csv');
    expect(rows[0].source).toEqual({ kind: 'prompt', prompt: 'a cat, sitting', seed: 3n });
    expect(rows[1].source).toEqual({ kind: 'key', key: 'somekey' });
    expect(rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it.each([
    [{ prompt: 'x', colour: 'red' }, /unknown field colour/],
    [{ prompt: '  ' }, /prompt is empty/],
    [{ prompt: 'x', key: 'k' }, /exactly one of prompt, key, image \(got prompt, key\)/],
    [{}, /exactly one of .*got none/],
    [{ key: 'k', seed: 3 }, /seed only apply to prompt rows/],
    [{ prompt: 'x', seed: -1 }, /seed must be an integer/],
    [{ prompt: 'x', seeds: MAX_SEEDS_PER_PROMPT + 1 }, /seeds must be an integer in 1\.\.10000/],
    [{ prompt: 'x', best_of: 0 }, /best_of must be/],
    [{ prompt: 'x', guidance: 'lots' }, /guidance must be a number/],
    [{ prompt: 'x', guidance: 7.3 }, /guidance 7\.3 is not one a key can carry \(1, 1\.25, 1\.5, …, 16\.75;/],
    [{ prompt: 'x', guidance: 0.5 }, /guidance 0\.5 is not one a key can carry .*1 runs without guidance/],
    [{ image: 'x.png', guidance: 2 }, /guidance does not apply to image rows/],
    [{ prompt: 'x', name: '../escape' }, /name must match/],
    ['{not json', /not JSON/],
    ['[1, 2]', /must be a JSON object/],
  ])('marks a bad row failed with its reason: %j', (row, reason) => {
    const rows = parseManifest(jsonl({ prompt: 'fine' }, row, { prompt: 'also fine' }), 'jsonl');
    expect(rows).toHaveLength(3);
    expect(rows[1].error).toMatch(reason);
    expect(rows[1].source).toBeUndefined();
    expect(rows[1].name).toBe('000002');
    expect(rows[0].error ?? rows[2].error).toBeUndefined();
  });

  it('fails the second of two rows with one name', () => {
    const rows = parseManifest(jsonl({ prompt: 'a', name: 'n' }, { prompt: 'b', name: 'n' }), 'jsonl');
    expect(rows[0].error).toBeUndefined();
    expect(rows[1].error).toBe('duplicate name n');
  });

  it('refuses a file that is not CSV at all, and picks the format by extension or content', () => {
    expect(() => parseManifest('a,b\n"unclosed,1\n', 'csv')).toThrow(ManifestError);
    expect(manifestFormat('m.csv', '{')).toBe('csv');
    expect(manifestFormat('m.jsonl', 'prompt')).toBe('jsonl');
    expect(manifestFormat('m.txt', '  {"prompt": 1}')).toBe('jsonl');
    expect(manifestFormat('m.txt', 'prompt\nx')).toBe('csv');
  });
});
