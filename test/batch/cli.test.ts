import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_EMOJI } from '../pipeline/helpers.ts';

// `lob batch` as a user runs it: a real SIGTERM in the middle, a rerun that resumes, and the result compared with an
// uninterrupted run and with `lob render`. On the tiny emoji-shaped fixture model, so four processes stay quick.
const ROOT = join(import.meta.dirname, '..', '..');
const MODEL = ['--model', TINY_EMOJI];
const tmp = mkdtempSync(join(tmpdir(), 'lob-batch-cli-'));
const manifest = join(tmp, 'rows.jsonl');
writeFileSync(
  manifest,
  `${JSON.stringify({ prompt: 'a red heart', seeds: 40 })}\n${JSON.stringify({ prompt: 'a cat', mood: 'happy' })}\n`,
);

function lob(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'lob.mjs'), ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

const images = (dir: string) => (existsSync(join(dir, 'images')) ? readdirSync(join(dir, 'images')).length : 0);

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    files[path.slice(dir.length + 1)] = path.endsWith('manifest.jsonl')
      ? bytes.toString('utf8').replace(/"seconds":[0-9.e-]+,/g, '')
      : bytes.toString('base64');
  }
  return files;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lob batch', () => {
  it('stops on SIGTERM, resumes on rerun, and ends byte-identical to an uninterrupted run and to lob render', async () => {
    const pieces = join(tmp, 'pieces');
    const first = lob(['batch', manifest, '--out', pieces, '--workers', '1', ...MODEL]);
    while (images(pieces) < 2) {
      if (first.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.stderr).toMatch(/SIGTERM, stopping/);
    expect(stopped.code).toBe(130);
    const kept = readFileSync(join(pieces, 'manifest.jsonl'), 'utf8').trim().split('\n');
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(41);

    const resumed = await lob(['batch', manifest, '--out', pieces, '--workers', '1', ...MODEL]).done;
    // one row has an unknown field: the batch finishes and the exit code says a row's input was bad
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/1 row\(s\) failed/);
    expect(resumed.stderr).toMatch(/^batch: \[#+\] 41\/41 100\.0%/m);
    const [, rendered, skipped] = /(\d+) rendered, (\d+) already done, 1 failed/.exec(resumed.stdout) ?? [];
    expect(Number(skipped)).toBeGreaterThanOrEqual(2);
    expect(Number(rendered) + Number(skipped)).toBe(40);

    const whole = join(tmp, 'whole');
    expect((await lob(['batch', manifest, '--out', whole, '--workers', '2', ...MODEL]).done).code).toBe(2);
    expect(snapshot(pieces)).toEqual(snapshot(whole));

    const row = JSON.parse(readFileSync(join(whole, 'manifest.jsonl'), 'utf8').split('\n')[5]);
    writeFileSync(join(tmp, 'key.txt'), row.key);
    const render = await lob(['render', `@${join(tmp, 'key.txt')}`, '-o', join(tmp, 'r.png'), ...MODEL]).done;
    expect(render.code).toBe(0);
    expect(readFileSync(join(tmp, 'r.png')).equals(readFileSync(join(whole, row.image)))).toBe(true);
  }, 180_000);

  it('says what is wrong with a MANIFEST it cannot read (exit 2)', async () => {
    const missing = await lob(['batch', join(tmp, 'nope.jsonl'), '--out', join(tmp, 'x')]).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl: cannot read/);
  });
});
