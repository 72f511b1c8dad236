import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../keyspace/index.ts';

// Keys of earlier editions as those editions wrote them: `lob search "red heart" --seed 7` with emoji-ldm 1.0.0
// (emoji-1), 2.0.1 (emoji-2), 3.0.0 (emoji-3), 4.0.0 (emoji-4), 5.0.0 (emoji-5), 6.0.0 (emoji-6), 7.0.0 (emoji-7),
// 8.0.0 (emoji-8) and 9.0.0 (emoji-9). The test takes the one just before the shipped version.
const ROOT = join(import.meta.dirname, '..', '..');
const EDITION_MODELS: Record<number, string> = {
  1: 'emoji-ldm 1.0.0',
  2: 'emoji-ldm 2.0.1',
  3: 'emoji-ldm 3.0.0',
  4: 'emoji-ldm 4.0.0',
  5: 'emoji-ldm 5.0.0',
  6: 'emoji-ldm 6.0.0',
  7: 'emoji-ldm 7.0.0',
  8: 'emoji-ldm 8.0.0',
  9: 'emoji-ldm 9.0.0',
};
const tmp = mkdtempSync(join(tmpdir(), 'lob-editions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('keys of earlier editions of the default model', () => {
  const profile = loadProfile(JSON.parse(readFileSync(join(ROOT, 'models', 'emoji', 'keyspace.json'), 'utf8')));

  it('the shipped profile lists every earlier key version with a tagged edition', () => {
    expect(profile.editions.map((e) => e.version)).toEqual(
      Array.from({ length: profile.version - 1 }, (_, i) => i + 1),
    );
    for (const e of profile.editions) expect(e.tag).toBe(EDITION_MODELS[e.version].replace(' ', '-'));
    // each recorded commit holds that edition's model (where the clone has the history), and a tag present names it
    const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    for (const e of profile.editions) {
      expect(e.commit).toMatch(/^[0-9a-f]{7,40}$/);
      const index = git('show', `${e.commit}:models/emoji/model_index.json`);
      if (index.status === 0) expect(`emoji-ldm ${JSON.parse(index.stdout).lob.version}`).toBe(e.model);
      const tagged = git('rev-parse', '--verify', '--quiet', `${e.tag}^{commit}`);
      if (tagged.status === 0) expect(tagged.stdout.trim().startsWith(e.commit ?? '?')).toBe(true);
    }
  });

  it("lob render of the previous edition's key exits 2 and says which edition draws it and how to run it", () => {
    const old = profile.version - 1;
    const oldKey = join(ROOT, 'test', 'fixtures', 'model', `emoji-${old}-red-heart.key`);
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'lob.mjs'), 'render', `@${oldKey}`, '-o', join(tmp, 'x.png')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`this is an emoji-${old} key`);
    expect(r.stderr).toContain(`drawn by ${EDITION_MODELS[old]}`);
    expect(r.stderr).toContain(`git checkout ${EDITION_MODELS[old].replace(' ', '-')}`);
    const commit = profile.editions.find((e) => e.version === old)?.commit;
    expect(commit).toMatch(/^[0-9a-f]{7,40}$/);
    expect(r.stderr).toContain(`git checkout ${commit}`);
  });
});
