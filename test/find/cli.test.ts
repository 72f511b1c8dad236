import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `lob find` as a user runs it, on the default model.
const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lob-find-cli-'));
const lob = (args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lob.mjs'), ...args], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(async () => {
  // a red disc on transparency, as an SVG and as a JPEG
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="72" height="72"><circle cx="36" cy="36" r="28" fill="#e02020"/></svg>';
  writeFileSync(join(tmp, 'disc.svg'), svg);
  writeFileSync(join(tmp, 'disc.jpg'), await sharp(Buffer.from(svg)).flatten({ background: '#fff' }).jpeg().toBuffer());
  writeFileSync(join(tmp, 'notes.txt'), 'not a picture');
  writeFileSync(join(tmp, 'empty.png'), '');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lob find', () => {
  it('prints the similarity on stderr and the key as the last stdout line; -o writes what the key renders', () => {
    const r = lob(['find', 'disc.svg', '--candidates', '2', '-o', 'found.png']);
    expect(r.code, r.stderr).toBe(0);
    const key = r.stdout.trim().split('\n').at(-1) as string;
    expect(key).toMatch(/^emoji-fine-[0-9]+\./);
    expect(r.stderr).toMatch(/PSNR \d+\.\d dB, SSIM 0\.\d+ .*2 of 2 candidates/);
    writeFileSync(join(tmp, 'key.txt'), key);
    expect(lob(['render', '@key.txt', '-o', 'again.png']).code).toBe(0);
    expect(readFileSync(join(tmp, 'again.png')).equals(readFileSync(join(tmp, 'found.png')))).toBe(true);
  });

  it('--json prints one object with the key and the similarity', () => {
    const r = lob(['find', 'disc.jpg', '--candidates', '1', '--json', '--coarse']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.key).toMatch(/^emoji-[0-9]+\./);
    expect(out.psnr).toBeGreaterThan(15);
    expect(out.candidates).toEqual({ tried: 1, planned: 1 });
  });

  it('refuses a file that is not a picture, an empty file and a missing one with exit code 2', () => {
    const text = lob(['find', 'notes.txt']);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('notes.txt: this is not a PNG, JPEG, WebP or SVG picture');
    expect(lob(['find', 'empty.png']).stderr).toContain('empty');
    expect(lob(['find', 'empty.png']).code).toBe(2);
    expect(lob(['find', 'missing.png']).code).toBe(2);
    expect(lob(['find', 'disc.svg', '--budget', '-1']).code).toBe(2);
  });
});
