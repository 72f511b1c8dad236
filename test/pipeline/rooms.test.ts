import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/pipeline.md: dependencies point inward, so no file imports itself back through others (types and dynamic
// imports included), and no room of pipeline/ depends on a room that depends on it.
describe('import graph', () => {
  it('has no cycle among files, nor among the rooms of pipeline/', () => {
    const root = join(import.meta.dirname, '..', '..');
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'check-import-cycles.mjs'), root], {
      encoding: 'utf8',
    });
    expect(r.stdout).toContain('file cycles: none');
    expect(r.stdout).toContain('room cycles: none');
    expect(r.status).toBe(0);
  });
});
