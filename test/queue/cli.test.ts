import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkRedisUrl } from '../../lib/queue/connection.ts';
import { RedisUrlError } from '../../lib/queue/errors.ts';

// `lob worker`'s refusals follow the CLI contract: 2 for usage (no or bad Redis URL), 3 for a missing model.
// A malformed URL is checked by checkRedisUrl before anything starts (and exits 2 the same way as no URL).
const root = resolve(import.meta.dirname, '../..');

async function lob(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const { LOB_REDIS_URL: _, ...rest } = process.env;
  try {
    await promisify(execFile)(process.execPath, ['bin/lob.mjs', ...args], { cwd: root, env: { ...rest, ...env } });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('lob worker', () => {
  it('exits 2 without a Redis URL', async () => {
    expect(await lob(['worker'])).toEqual({
      code: 2,
      stderr: 'lob: no Redis: pass --redis URL or set LOB_REDIS_URL\n',
    });
  });

  it('takes only redis:// and rediss:// URLs', () => {
    expect(checkRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(checkRedisUrl('rediss://user:pw@host:6380/2')).toBe('rediss://user:pw@host:6380/2');
    expect(() => checkRedisUrl('http://127.0.0.1:6379')).toThrow(RedisUrlError);
    expect(() => checkRedisUrl('127.0.0.1:6379')).toThrow(/must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('exits 3 when the model folder is missing', async () => {
    const missing = await lob(['worker', '--redis', 'redis://127.0.0.1:1', '--model', '/nonexistent/model']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^lob: model: .*nonexistent/);
  });
});
