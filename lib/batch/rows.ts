import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { guidanceScaleProblem } from '../../keyspace/index.ts';

/**
 * A research batch's MANIFEST (JSONL or CSV) → rows. Each input row gives exactly one of `prompt` (searched with its
 * seed), `key`, or `image`; a prompt row with `seeds: N` becomes N rows (seed, seed+1, …). A row that cannot be used
 * keeps its reason and fails alone: the rest of the batch goes on.
 */

/**
 * Where a row's key comes from. `guidance` is kept in the key (its profile's guidance variant): a prompt row's key is
 * searched with it, a key row's key is given it (the same steps, prompt and noise at that scale).
 */
export type RowSource =
  | {
      kind: 'prompt';
      prompt: string;
      seed: bigint;
      /** Omitted: the model's own number (the same key as `lob search` gives the prompt and seed). */
      bestOf?: number;
      steps?: number;
      negative?: string;
      guidance?: number;
    }
  | { kind: 'key'; key: string; guidance?: number }
  | { kind: 'image'; path: string };

export interface BatchRow {
  /** 0-based position in the expanded batch (the manifest.jsonl order). */
  index: number;
  /** 1-based line of the MANIFEST the row came from (CSV: the record's first line). */
  line: number;
  /** File stem of the row's outputs (images/NAME.png, hidden/NAME.npy). */
  name: string;
  /** The row as given (recorded in manifest.jsonl). */
  input: Record<string, unknown>;
  /** What to render; absent when the row is invalid. */
  source?: RowSource;
  /** Why the row is invalid. */
  error?: string;
}

/** Settings for every row that does not set its own (CLI flags); each applies to the rows that take the field. */
export interface BatchDefaults {
  seed?: bigint;
  seeds?: number;
  bestOf?: number;
  steps?: number;
  guidance?: number;
  negative?: string;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const FIELDS = ['name', 'prompt', 'key', 'image', 'seed', 'seeds', 'best_of', 'steps', 'guidance', 'negative_prompt'];
const PROMPT_ONLY = ['seed', 'seeds', 'best_of', 'steps', 'negative_prompt'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Rows one prompt may expand into; a typo like `seeds: 1e9` must not allocate a billion rows. */
export const MAX_SEEDS_PER_PROMPT = 10_000;
/** Rows one batch may hold. */
export const MAX_ROWS = 1_000_000;

/** A field's problem, reported as the row's failure reason. */
class RowProblem extends Error {}

export type ManifestFormat = 'jsonl' | 'csv';

/** JSONL for .jsonl/.ndjson, CSV for .csv; otherwise JSONL when the first non-blank character is `{`. */
export function manifestFormat(path: string, text: string): ManifestFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

interface RawRow {
  line: number;
  fields?: Record<string, unknown>;
  error?: string;
}

function jsonlRows(text: string): RawRow[] {
  const rows: RawRow[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      rows.push({ line: i + 1, error: `not JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      rows.push({ line: i + 1, error: 'a row must be a JSON object' });
    else rows.push({ line: i + 1, fields: value as Record<string, unknown> });
  });
  return rows;
}

function csvRows(text: string): RawRow[] {
  let records: { info: { lines: number }; record: Record<string, string> }[];
  try {
    records = parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, info: true, trim: false });
  } catch (err) {
    throw new ManifestError(`CSV: ${(err as Error).message}`);
  }
  // an empty cell means "not given": CSV has every column on every row
  return records.map(({ info, record }) => ({
    line: info.lines,
    fields: Object.fromEntries(Object.entries(record).filter(([, v]) => v !== '')),
  }));
}

function integer(fields: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = fields[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new RowProblem(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

function seedOf(fields: Record<string, unknown>): bigint | undefined {
  const v = fields.seed;
  if (v === undefined) return undefined;
  const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== 'string' || !/^[0-9]+$/.test(text.trim()) || BigInt(text) >= 2n ** 64n)
    throw new RowProblem(`seed must be an integer in 0..2^64-1 (as a string above 2^53), got ${JSON.stringify(v)}`);
  return BigInt(text);
}

function text(fields: Record<string, unknown>, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RowProblem(`${name} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The row's guidance, else the batch's: a scale a key can carry (it goes into the key). */
function guidanceOf(fields: Record<string, unknown>, defaults: BatchDefaults): number | undefined {
  const v = fields.guidance;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : (v ?? defaults.guidance);
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new RowProblem(`guidance must be a number, got ${JSON.stringify(v)}`);
  const problem = guidanceScaleProblem(n);
  if (problem) throw new RowProblem(problem);
  return n;
}

/** One input row → its expanded rows' sources (without names). */
function sourcesOf(fields: Record<string, unknown>, defaults: BatchDefaults): { sources: RowSource[]; seeds: number } {
  const unknown = Object.keys(fields).filter((f) => !FIELDS.includes(f));
  if (unknown.length) throw new RowProblem(`unknown field ${unknown.join(', ')} (fields: ${FIELDS.join(', ')})`);
  const given = ['prompt', 'key', 'image'].filter((f) => fields[f] !== undefined);
  if (given.length !== 1)
    throw new RowProblem(`a row needs exactly one of prompt, key, image (got ${given.join(', ') || 'none'})`);
  if (given[0] !== 'prompt') {
    const extra = PROMPT_ONLY.filter((f) => fields[f] !== undefined);
    if (extra.length)
      throw new RowProblem(`${extra.join(', ')} only apply to prompt rows (a key is the whole recipe already)`);
    const value = text(fields, given[0]) as string;
    if (value.trim() === '') throw new RowProblem(`${given[0]} is empty`);
    if (given[0] === 'image') {
      // find gives a fine-latent key, which has no guidance variant: it renders at the model's scale, as found
      if (fields.guidance !== undefined)
        throw new RowProblem("guidance does not apply to image rows (a found key renders at the model's guidance)");
      return { sources: [{ kind: 'image', path: value }], seeds: 1 };
    }
    const guidance = guidanceOf(fields, defaults);
    return { sources: [{ kind: 'key', key: value.trim(), ...(guidance !== undefined && { guidance }) }], seeds: 1 };
  }
  const prompt = (text(fields, 'prompt') as string).trim();
  if (prompt === '') throw new RowProblem('prompt is empty');
  const seed = seedOf(fields) ?? defaults.seed ?? 0n;
  const seeds = integer(fields, 'seeds', 1, MAX_SEEDS_PER_PROMPT) ?? defaults.seeds ?? 1;
  const bestOf = integer(fields, 'best_of', 1, 64) ?? defaults.bestOf;
  const steps = integer(fields, 'steps', 1, 10_000) ?? defaults.steps;
  const negative = (text(fields, 'negative_prompt') ?? defaults.negative)?.trim() || undefined;
  const guidance = guidanceOf(fields, defaults);
  const sources: RowSource[] = [];
  for (let k = 0; k < seeds; k++) {
    sources.push({
      kind: 'prompt',
      prompt,
      seed: BigInt.asUintN(64, seed + BigInt(k)),
      ...(bestOf !== undefined && { bestOf }),
      ...(steps !== undefined && { steps }),
      ...(negative !== undefined && { negative }),
      ...(guidance !== undefined && { guidance }),
    });
  }
  return { sources, seeds };
}

/** Parses a MANIFEST's text into rows; only a file that is not a manifest at all (bad CSV quoting) throws. */
export function parseManifest(text: string, format: ManifestFormat, defaults: BatchDefaults = {}): BatchRow[] {
  const raw = format === 'jsonl' ? jsonlRows(text) : csvRows(text);
  const rows: BatchRow[] = [];
  const names = new Set<string>();
  for (const r of raw) {
    const input = r.fields ?? {};
    const base = { line: r.line, input };
    const given = typeof input.name === 'string' && NAME.test(input.name) ? input.name : undefined;
    const stem = given ?? String(r.line).padStart(6, '0');
    const push = (name: string, rest: Partial<BatchRow>) => {
      if (rows.length >= MAX_ROWS) throw new ManifestError(`more than ${MAX_ROWS} rows`);
      const clash = names.has(name);
      names.add(name);
      rows.push({ ...base, index: rows.length, name, ...rest, ...(clash && { error: `duplicate name ${name}` }) });
    };
    if (r.error) {
      push(stem, { error: r.error });
      continue;
    }
    try {
      if (input.name !== undefined && given === undefined)
        throw new RowProblem(`name must match ${NAME.source} (it names files), got ${JSON.stringify(input.name)}`);
      const { sources, seeds } = sourcesOf(input, defaults);
      sources.forEach((source, k) => {
        push(seeds > 1 ? `${stem}-${k}` : stem, { source });
      });
    } catch (err) {
      if (!(err instanceof RowProblem)) throw err;
      push(stem, { error: err.message });
    }
  }
  return rows;
}
