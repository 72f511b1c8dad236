// `npm run bench [-- [NAME...] [--no-record]]`: runs bench/*.bench.ts (or those whose file name contains a NAME),
// prints each table and rewrites docs/benchmarks.md, replacing each bench's own `## <title>` section and keeping the
// others; `--no-record` only prints.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Bench = () => Promise<{ title: string; markdown: string }>;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const docPath = join(benchDir, '..', 'docs', 'benchmarks.md');
const HEADER =
  '# Benchmarks\n\nWritten by `npm run bench` (bench/run.ts); each section is replaced when its benchmark runs again.\n' +
  'The Python references (PyTorch for `pipeline`, gen5 0.1.0 for `gen5`) need Debian packages: ' +
  '`sudo sh scripts/install-bench-deps.sh` installs them all; a bench that misses one says which before it measures.\n';

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) return `${pretty}, ${type()} ${release()}`;
  } catch {
    // not Linux, or no os-release: the kernel name is enough
  }
  return `${type()} ${release()}`;
}

/** The machine, and how busy it was when the bench started (timings on a shared machine move with its load). */
function machine(load: number): string {
  const cpu = cpus();
  const ram = (totalmem() / 2 ** 30).toFixed(1);
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
  return `Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} cores), ${ram} GiB RAM, ${osName()}; Node ${process.version}; ${date} UTC; load average ${load.toFixed(1)} at the start.`;
}

/** Splits the document into its `## ` sections by title (text before the first one is the header). */
function sections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^(?=## )/m).slice(1);
  for (const part of parts) out.set(part.slice(3, part.indexOf('\n')).trim(), part.trimEnd());
  return out;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const record = !args.includes('--no-record');
  const filters = args.filter((a) => !a.startsWith('--'));
  const files = readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
    .sort();
  if (files.length === 0) {
    process.stderr.write(`no benchmark matches ${filters.join(', ')}\n`);
    return 2;
  }
  const doc = sections(existsSync(docPath) ? readFileSync(docPath, 'utf8') : '');
  let failed = 0;
  for (const file of files) {
    process.stdout.write(`\n# ${file}\n`);
    try {
      const load = loadavg()[0];
      const bench = (await import(pathToFileURL(join(benchDir, file)).href)).default as Bench;
      const { title, markdown } = await bench();
      const section = `## ${title}\n\n_${machine(load)}_\n\n${markdown.trim()}`;
      process.stdout.write(`${section}\n`);
      doc.set(title, section);
      // Written after every bench, so a later failure does not lose earlier results.
      if (record) writeFileSync(docPath, `${HEADER}\n${[...doc.values()].join('\n\n')}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`${file} failed: ${(err as Error).stack ?? err}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
