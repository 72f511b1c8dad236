#!/usr/bin/env node
// Serves the production build (`next build` output in .next) on HOST:PORT (default 127.0.0.1:3000): Next's own
// request handler behind one guard. Next turns every request into a fetch Request, and the fetch standard forbids
// the methods TRACE, TRACK and CONNECT: such a request made Next log a stack trace and answer a bare 500. The guard
// answers them itself, as every API failure is answered: 405 JSON with an Allow header.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { checkSettingsOrExit } from './check-settings.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.PORT ?? '3000');
const hostname = process.env.HOST ?? '127.0.0.1';
const FORBIDDEN = new Set(['TRACE', 'TRACK', 'CONNECT']);
// The method each API route offers (mirrors the routes' methodNotAllowed; test/hardening/http.test.ts compares them).
const GET_ROUTES = new Set(['/api/model', '/api/random', '/api/progress']);

function allowFor(pathname) {
  if (!pathname.startsWith('/api/')) return 'GET, HEAD';
  return GET_ROUTES.has(pathname) ? 'GET' : 'POST';
}

function refuse(req, res) {
  const pathname = new URL(req.url ?? '/', 'http://x').pathname;
  const body = JSON.stringify({
    error: { code: 'method_not_allowed', message: `${req.method} is not supported; use ${allowFor(pathname)}` },
  });
  res.writeHead(405, { allow: allowFor(pathname), 'content-type': 'application/json' });
  res.end(body);
}

await checkSettingsOrExit();
const app = next({ dev: false, dir: root, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();
createServer((req, res) => {
  if (FORBIDDEN.has(req.method ?? '')) return refuse(req, res);
  return handle(req, res);
}).listen(port, hostname, () => {
  console.log(`✓ Ready on http://${hostname}:${port}`);
});
