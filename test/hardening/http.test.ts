import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerSettings } from '../../lib/settings.ts';
import { ensureBuild, type RunningServer, startServer } from '../app/server.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';

// Every failure is JSON, cross-site forms cannot make the server render, and bad settings fail at start-up.
const ROOT = resolve(import.meta.dirname, '../..');
const cacheDir = mkdtempSync(join(tmpdir(), 'lob-http-'));
process.env.LOB_MODEL = TINY_EMOJI;
process.env.LOB_CACHE_DIR = cacheDir;
process.env.LOB_WORKERS = '1';

type Handler = (request: Request) => Response | Promise<Response>;
const ROUTES = {
  model: await import('../../app/api/model/route.ts'),
  random: await import('../../app/api/random/route.ts'),
  progress: await import('../../app/api/progress/route.ts'),
  search: await import('../../app/api/search/route.ts'),
  render: await import('../../app/api/render/route.ts'),
  neighbour: await import('../../app/api/neighbour/route.ts'),
  export: await import('../../app/api/export/route.ts'),
  import: await import('../../app/api/import/route.ts'),
} as unknown as Record<string, Record<string, Handler>>;
const OFFERED: Record<string, string> = { model: 'GET', random: 'GET', progress: 'GET' };
const offered = (name: string) => OFFERED[name] ?? 'POST';
const POSTS = Object.keys(ROUTES).filter((name) => offered(name) === 'POST');

afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, allow: response.headers.get('allow'), ...body.error };
}

describe('methods a route does not offer', () => {
  it.each(Object.keys(ROUTES))('%s: PUT, PATCH and DELETE get a JSON 405 with Allow', async (name) => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const handler = ROUTES[name][method];
      expect(handler, `${name} exports ${method}`).toBeTypeOf('function');
      const request = new Request(`http://localhost/api/${name}`, { method });
      expect(await errorOf(await handler(request))).toMatchObject({
        status: 405,
        code: 'method_not_allowed',
        allow: offered(name),
      });
    }
  });
});

describe('POST bodies of other types', () => {
  const bodies: [string, string][] = [
    ['text/plain', '{"key":"x","prompt":"cat"}'],
    ['application/x-www-form-urlencoded', 'key=x&prompt=cat'],
    ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nx\r\n--b--\r\n'],
  ];
  it.each(POSTS)('%s: refused with 415 before anything is read or rendered', async (name) => {
    const types = name === 'import' ? [...bodies, ['application/json', '{}'] as [string, string]] : bodies;
    for (const [type, body] of types) {
      const request = new Request('http://localhost/api', { method: 'POST', headers: { 'content-type': type }, body });
      expect(await errorOf(await ROUTES[name].POST(request))).toMatchObject({
        status: 415,
        code: 'unsupported_media_type',
      });
    }
  });

  it('takes application/json with a charset, and uploads as image/png or application/octet-stream', async () => {
    const json = new Request('http://localhost/api', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ prompt: 'cat', seed: 3 }),
    });
    expect((await ROUTES.search.POST(json)).status).toBe(200);
    for (const type of ['image/png', 'application/octet-stream']) {
      const upload = new Request('http://localhost/api', {
        method: 'POST',
        headers: { 'content-type': type },
        body: 'not a file',
      });
      expect((await errorOf(await ROUTES.import.POST(upload))).status).toBe(400);
    }
  });
});

describe('search seeds', () => {
  const search = (seed: unknown) =>
    ROUTES.search.POST(
      new Request('http://localhost/api', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'cat', seed }),
      }),
    );
  it('refuses seeds outside 0 .. 2^64 − 1, as the CLI does', async () => {
    for (const seed of [-1, '18446744073709551616', 2 ** 60, '1e3', 1.5]) {
      expect(await errorOf(await search(seed))).toMatchObject({ status: 400, code: 'bad_request' });
    }
    for (const seed of [0, '18446744073709551615']) expect((await search(seed)).status).toBe(200);
  });
});

describe('settings', () => {
  it('names the variable and what it accepts', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ LOB_WORKERS: 'abc' }, /^LOB_WORKERS must be a whole number from 1 to 64 .*; got "abc"$/],
      [{ LOB_THREADS_PER_WORKER: '-1' }, /^LOB_THREADS_PER_WORKER must be a whole number from 1 to 256/],
      [{ LOB_WORKERS: '0' }, /^LOB_WORKERS must be/],
      [{ LOB_MAX_QUEUE: '1.5' }, /^LOB_MAX_QUEUE must be/],
      [{ LOB_CACHE_MAX_BYTES: '0x10' }, /^LOB_CACHE_MAX_BYTES must be/],
      [{ LOB_EP: 'tpu' }, /^LOB_EP must be one of cpu, cuda, webgpu/],
      [{ PORT: '99999' }, /^PORT must be a whole number from 1 to 65535/],
    ];
    for (const [env, message] of cases) expect(() => readServerSettings(env)).toThrow(message);
    expect(readServerSettings({ LOB_WORKERS: '2', LOB_THREADS_PER_WORKER: '1' })).toMatchObject({ workers: 2 });
  });

  it('npm start refuses bad settings at start-up, before building or serving', () => {
    for (const [name, value] of [
      ['LOB_WORKERS', 'abc'],
      ['LOB_THREADS_PER_WORKER', '-1'],
    ]) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/start.mjs')], {
        env: { ...process.env, [name]: value, PORT: '1' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`lob: ${name} must be a whole number`);
      expect(r.stdout).not.toContain('Ready');
    }
  });
});

describe('the production server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    await ensureBuild();
    server = await startServer({ LOB_MODEL: TINY_EMOJI, LOB_CACHE_DIR: cacheDir, LOB_WORKERS: '1' });
  }, 600_000);
  afterAll(async () => server?.stop());

  it('answers TRACE, PUT, PATCH and DELETE on every API route with a JSON 405, with no stack trace in the log', async () => {
    for (const name of Object.keys(ROUTES)) {
      for (const method of ['TRACE', 'PUT', 'PATCH', 'DELETE']) {
        const response = await fetchRaw(`${server.url}/api/${name}`, method);
        expect(response, `${method} /api/${name}`).toMatchObject({ status: 405, allow: offered(name) });
        expect(JSON.parse(response.body).error.code).toBe('method_not_allowed');
      }
    }
    expect(server.log()).not.toMatch(/TypeError|\n\s+at /);
  });
});

/** fetch() refuses to send TRACE at all, so the request goes out through node:http. */
async function fetchRaw(url: string, method: string): Promise<{ status: number; allow: string; body: string }> {
  const { request } = await import('node:http');
  return new Promise((done, fail) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, allow: String(res.headers.allow), body }));
    });
    req.on('error', fail);
    req.end();
  });
}
