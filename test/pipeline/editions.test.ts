import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../keyspace/index.ts';

// A key of the previous edition (emoji-ldm 2.0.1's `lob search "red heart" --seed 7`), kept as that edition wrote it.
const ROOT = join(import.meta.dirname, '..', '..');
const OLD_KEY = join(ROOT, 'test', 'fixtures', 'model', 'emoji-2-red-heart.key');
const tmp = mkdtempSync(join(tmpdir(), 'lob-editions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('keys of earlier editions of the default model', () => {
  const profile = loadProfile(JSON.parse(readFileSync(join(ROOT, 'models', 'emoji', 'keyspace.json'), 'utf8')));

  it('the shipped profile lists every earlier key version with a tagged edition', () => {
    const versions = profile.editions.map((e) => e.version);
    expect(versions).toEqual(Array.from({ length: profile.version - 1 }, (_, i) => i + 1));
    for (const e of profile.editions) expect(e.tag).toMatch(/^emoji-ldm-\d+\.\d+\.\d+$/);
  });

  it('lob render of an emoji-2 key exits 2 and says which edition draws it and how to run it', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'lob.mjs'), 'render', `@${OLD_KEY}`, '-o', join(tmp, 'x.png')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('this is an emoji-2 key');
    expect(r.stderr).toContain('emoji-ldm 2.0.1');
    expect(r.stderr).toContain('git checkout emoji-ldm-2.0.1');
  });
});
