/**
 * Load test for a running server (`npm run load -- --url http://127.0.0.1:3000`):
 * 200 render requests for distinct keys at concurrency 16. Checks that the server stays up, that its memory (RSS of
 * the server's whole process tree) stays bounded, that every request gets a PNG or a 429, and that every PNG equals
 * a single-threaded render of its key made here, in this process, from the same model folder.
 * Exits 1 if any check fails. Prints a Markdown summary (pasted into docs/app.md).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultModelDir, loadModel, renderKey } from '../pipeline/index.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    pid: { type: 'string' },
    model: { type: 'string' },
    'rss-limit-mib': { type: 'string', default: '2048' },
  },
});
const base = args.url.replace(/\/$/, '');
const total = Number(args.requests);
const concurrency = Number(args.concurrency);
const rssLimit = Number(args['rss-limit-mib']) * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The pid listening on the URL's port (from `ss`), so RSS can be sampled without being told. */
function serverPid(): number {
  if (args.pid) return Number(args.pid);
  const port = new URL(base).port || '80';
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  if (!match) throw new Error(`no process listens on port ${port} (pass --pid)`);
  return Number(match[1]);
}

/** RSS in bytes of a process and all its descendants (next start may fork; workers are threads, counted once). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let rss = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (kb) rss += Number(kb[1]) * 1024;
    } catch {
      // Gone.
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return rss;
}

async function distinctKeys(n: number): Promise<string[]> {
  const keys = new Set<string>();
  while (keys.size < n) {
    const response = await fetch(`${base}/api/random`);
    if (!response.ok) throw new Error(`GET /api/random answered ${response.status}: ${await response.text()}`);
    keys.add(((await response.json()) as { key: string }).key);
  }
  return [...keys];
}

interface Outcome {
  key: string;
  status: number;
  ms: number;
  png?: Buffer;
  problem?: string;
}

async function renderOne(key: string): Promise<Outcome> {
  const start = performance.now();
  try {
    const response = await fetch(`${base}/api/render`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    const body = Buffer.from(await response.arrayBuffer());
    const ms = performance.now() - start;
    if (response.status === 200 && response.headers.get('content-type') === 'image/png') {
      return { key, status: 200, ms, png: body };
    }
    if (response.status === 429) {
      const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: string } }).error?.code;
      return code === 'queue_full' ? { key, status: 429, ms } : { key, status: 429, ms, problem: `429 with ${code}` };
    }
    return { key, status: response.status, ms, problem: `${response.status}: ${body.toString('utf8').slice(0, 200)}` };
  } catch (err) {
    return { key, status: 0, ms: performance.now() - start, problem: `request failed: ${(err as Error).message}` };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;
}

async function main(): Promise<number> {
  const pid = serverPid();
  // /api/model starts the render workers, so the baseline and the latencies are of a running library.
  const warm = await fetch(`${base}/api/model`);
  if (!warm.ok) throw new Error(`GET /api/model answered ${warm.status}: ${await warm.text()}`);
  const keys = await distinctKeys(total);
  const rssBefore = treeRss(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, treeRss(pid));
  }, 100);

  const outcomes: Outcome[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) outcomes.push(await renderOne(keys[next++]));
    }),
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  const rssAfter = treeRss(pid);
  rssPeak = Math.max(rssPeak, rssAfter);
  const alive = await fetch(`${base}/api/model`).then(
    (r) => r.ok,
    () => false,
  );

  // The reference: every returned PNG against a render of the same key in this process, one at a time.
  const model = await loadModel(args.model ?? defaultModelDir(), { intraOpNumThreads: 1 });
  const pngs = outcomes.filter((o) => o.png);
  const mismatched: string[] = [];
  for (const o of pngs) {
    const reference = await renderKey(model, o.key);
    if (sha256(reference.png) !== sha256(o.png as Buffer)) mismatched.push(o.key);
  }
  await model.release();

  const ok = pngs.length;
  const busy = outcomes.filter((o) => o.status === 429 && !o.problem).length;
  const problems = outcomes.filter((o) => o.problem);
  const times = pngs.map((o) => o.ms).sort((a, b) => a - b);
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  const checks = [
    ['server still answers afterwards', alive],
    ['every request got a PNG or a 429', problems.length === 0 && outcomes.length === total],
    [`peak RSS within ${mib(rssLimit)}`, rssPeak <= rssLimit],
    ['every PNG equals a single-threaded render of its key', mismatched.length === 0],
  ] as const;
  const lines = [
    `Load: ${total} renders of distinct keys, concurrency ${concurrency}, against ${base}`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| PNG (200) | ${ok} |`,
    `| queue full (429) | ${busy} |`,
    `| other answers / failures | ${problems.length} |`,
    `| wall time | ${(wallMs / 1000).toFixed(1)} s |`,
    `| latency of PNG answers p50 / p90 / max | ${percentile(times, 50).toFixed(0)} / ${percentile(times, 90).toFixed(0)} / ${(times.at(-1) ?? Number.NaN).toFixed(0)} ms |`,
    `| server RSS before / peak / after | ${mib(rssBefore)} / ${mib(rssPeak)} / ${mib(rssAfter)} |`,
    `| PNGs equal to the single-threaded reference | ${ok - mismatched.length} / ${ok} |`,
    '',
    ...checks.map(([name, pass]) => `- ${pass ? 'PASS' : 'FAIL'}: ${name}`),
    ...problems.slice(0, 10).map((o) => `  - ${o.problem}`),
    ...mismatched.slice(0, 10).map((k) => `  - PNG differs for key ${k.slice(0, 40)}…`),
  ];
  console.log(lines.join('\n'));
  return checks.every(([, pass]) => pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`load: ${(err as Error).message}`);
    process.exit(2);
  },
);
