import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGen5 } from '../../gen5/index.ts';
import { compressFrame, decompressFrame } from '../../gen5/zstd.ts';
import { f32Bytes, MODEL_INFO } from '../gen5/helpers.ts';

// The CLI checks sizes before it reads, and the small things of issue 15.
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lob-cli-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lob(args: string[], input?: Uint8Array) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lob.mjs'), ...args], {
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the CLI checks sizes before it reads', () => {
  it('refuses a 1.5 GB (sparse) file to gen5 inspect by its size', () => {
    const file = join(dir, 'huge.gen5');
    writeFileSync(file, '');
    truncateSync(file, 1.5e9);
    const r = lob(['gen5', 'inspect', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is 1500000000 bytes, above the limit of 1073741824`);
  });

  it('reads a key from stdin only up to the longest key any profile allows', () => {
    const r = lob(['key', 'decode', '-'], new Uint8Array(64 * 1024 * 1024));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the key on stdin is longer than the longest key any known profile allows \(\d+ characters\)/,
    );
  });

  it('refuses a key file longer than any key by its size', () => {
    const file = join(dir, 'key.txt');
    writeFileSync(file, '');
    truncateSync(file, 1e9);
    const r = lob(['key', 'decode', `@${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key file .* \(1000000000 bytes\) is longer than the longest key/);
  });
});

describe('small things', () => {
  it('says "decompress" when zstd fails to decompress', async () => {
    const frame = await compressFrame(new Uint8Array(12), f32Bytes(4096));
    const broken = frame.slice();
    for (let i = 20; i < broken.length - 8; i += 7) broken[i] ^= 0x5a;
    const err = await decompressFrame(broken, 1 << 20, 'chunk 0').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^chunk 0: zstd could not decompress the frame/);
    expect((err as Error).message).not.toMatch(/Failed to compress/);
  });

  it('extract refuses a latent name longer than a file name may be, writing nothing', async () => {
    const name = 'a'.repeat(300);
    const bytes = await encodeGen5({
      latents: [{ name, dtype: 'float32', shape: [1, 1, 2, 2], data: f32Bytes(4) }],
      modelInfo: MODEL_INFO,
      environment: [],
    });
    const file = join(dir, 'long-name.gen5');
    writeFileSync(file, bytes);
    const out = join(dir, 'out');
    const r = lob(['gen5', 'extract', file, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('latent name of 300 characters is longer than 251');
    expect(existsSync(out)).toBe(false);
  });
});
