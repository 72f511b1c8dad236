import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { buildIsStale, runNextBuild } from '../../bin/next-build.mjs';

/** Starts the production build on a free localhost port for the browser tests, building first if needed. */
const root = resolve(import.meta.dirname, '../..');

const ANOTHER_BUILD = 'Another next build process is already running';

/**
 * Runs `next build` when there is no build or a source file is newer than it (a minute or so on 2 cores). When
 * another run (a second test run in the same checkout) is building, waits for it and uses its build.
 */
export async function ensureBuild(): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (buildIsStale(root)) {
    try {
      runNextBuild(root, 'pipe');
    } catch (err) {
      if (!(err as Error).message.includes(ANOTHER_BUILD) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

export interface RunningServer {
  url: string;
  process: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve(root, 'bin/serve.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bin/serve.mjs exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/api/model`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`server did not become ready in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    process: child,
    log: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
