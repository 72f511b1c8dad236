import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors.ts';
import { readKeyArg } from '../../lib/cli/key-arg.ts';

describe('readKeyArg', () => {
  it('returns a literal key unchanged', async () => {
    expect(await readKeyArg('abc-DEF_09', 1000)).toBe('abc-DEF_09');
  });

  it('reads a key from stdin with -', async () => {
    const long = 'A'.repeat(200_000);
    expect(await readKeyArg('-', 200_000, Readable.from([`${long}\n`]))).toBe(long);
  });

  it('reads a key from @FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lob-key-'));
    writeFileSync(join(dir, 'k.txt'), 'xyz\n');
    expect(await readKeyArg(`@${join(dir, 'k.txt')}`, 1000)).toBe('xyz');
  });

  it('names the file it cannot read', async () => {
    await expect(readKeyArg('@/nonexistent/key.txt', 1000)).rejects.toThrow(CliError);
    await expect(readKeyArg('@/nonexistent/key.txt', 1000)).rejects.toThrow('/nonexistent/key.txt');
  });
});
