import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createProfileRegistry,
  decodeKey,
  encodeKey,
  loadProfile,
  nextKey,
  type Profile,
  parseKey,
  randomKey,
} from '../keyspace/index.ts';
import { median } from './stats.ts';

/**
 * sd-lob keys (189,436 characters) decoded and encoded by our keyspace, side by side with the seed project's own
 * Python codec on the same keys (its source: SD_LOB_SRC, a checkout of alexn11/stable-diffusion-image-archive-lob,
 * run with /usr/bin/python3 and our stand-in torch in bench/python/). Our emoji-shaped test profile for scale.
 */
const ROUNDS = 60;
const PY_ROUNDS = 5;
const root = fileURLToPath(new URL('..', import.meta.url));
const sdLobDir = join(root, 'test/fixtures/sd-lob');

interface Timing {
  decode: number;
  encode: number;
  decodeMin: number;
  encodeMin: number;
}

/** Median and minimum ms of parse+decode and of encode, after a warm-up. */
function timeOurs(text: string, registry = createProfileRegistry()): Timing {
  const decodeMs: number[] = [];
  const encodeMs: number[] = [];
  for (let i = 0; i < ROUNDS + 10; i++) {
    const t0 = performance.now();
    const decoded = decodeKey(parseKey(text, registry));
    const t1 = performance.now();
    const again = encodeKey(decoded.profile, decoded);
    const t2 = performance.now();
    if (again !== text) throw new Error('re-encoding changed the key');
    if (i >= 10) {
      decodeMs.push(t1 - t0);
      encodeMs.push(t2 - t1);
    }
  }
  return {
    decode: median(decodeMs),
    encode: median(encodeMs),
    decodeMin: Math.min(...decodeMs),
    encodeMin: Math.min(...encodeMs),
  };
}

interface PyResult {
  key: string;
  decode_ms: number;
  encode_ms: number;
  decode_min_ms: number;
  encode_min_ms: number;
  roundtrip: boolean;
}

function timePython(keys: string[]): { results: PyResult[] } | string {
  const src = process.env.SD_LOB_SRC;
  if (!src) return 'SD_LOB_SRC is not set (point it at a checkout of alexn11/stable-diffusion-image-archive-lob)';
  if (!existsSync(join(src, 'key_to_embedding.py'))) return `SD_LOB_SRC=${src} has no key_to_embedding.py`;
  const script = join(root, 'bench/python/sd_lob_codec.py');
  const res = spawnSync('/usr/bin/python3', [script, src, String(PY_ROUNDS), ...keys], { encoding: 'utf8' });
  if (res.status !== 0) return `the Python codec failed: ${res.stderr.trim().split('\n').at(-1)}`;
  return JSON.parse(res.stdout) as { results: PyResult[] };
}

const f = (x: number) => x.toFixed(x < 10 ? 3 : 1);

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const files = readdirSync(sdLobDir)
    .filter((n) => n.endsWith('.key'))
    .sort()
    .map((n) => join(sdLobDir, n));
  // Ours before and after the Python run, so a change in machine load hits both sides alike.
  const before = files.map((file) => timeOurs(readFileSync(file, 'utf8')));
  const py = timePython(files);
  const after = files.map((file) => timeOurs(readFileSync(file, 'utf8')));
  const rows = [
    '| key | chars | ours: decode ms | ours: encode ms | seed Python: decode ms | seed Python: encode ms | decode speed-up | encode speed-up |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // Medians with minimums in brackets. The machine is shared (two cores, other jobs): medians move with its load,
  // minimums are each side's undisturbed speed, so the speed-up is the ratio of minimums.
  const cell = (median: number, min: number) => `${f(median)} (${f(min)})`;
  let worstMedian = 0;
  let minSpeedup = Number.POSITIVE_INFINITY;
  files.forEach((file, i) => {
    const decode = Math.max(before[i].decode, after[i].decode);
    const encode = Math.max(before[i].encode, after[i].encode);
    const decodeMin = Math.min(before[i].decodeMin, after[i].decodeMin);
    const encodeMin = Math.min(before[i].encodeMin, after[i].encodeMin);
    worstMedian = Math.max(worstMedian, decode, encode);
    const name = file.split('/').at(-1) as string;
    const p = typeof py === 'string' ? undefined : py.results.find((r) => r.key === name);
    if (p && !p.roundtrip) throw new Error(`the seed codec did not round-trip ${name}`);
    const cells = p
      ? [
          cell(p.decode_ms, p.decode_min_ms),
          cell(p.encode_ms, p.encode_min_ms),
          `${Math.round(p.decode_min_ms / decodeMin)}×`,
          `${Math.round(p.encode_min_ms / encodeMin)}×`,
        ]
      : ['–', '–', '–', '–'];
    if (p) minSpeedup = Math.min(minSpeedup, p.decode_min_ms / decodeMin, p.encode_min_ms / encodeMin);
    rows.push(`| ${name} | 189,436 | ${cell(decode, decodeMin)} | ${cell(encode, encodeMin)} | ${cells.join(' | ')} |`);
  });

  const synth = loadProfile(JSON.parse(readFileSync(join(root, 'test/fixtures/keyspace/synth.json'), 'utf8')));
  const emojiRows = [synth].map((profile: Profile) => {
    const t = timeOurs(randomKey(profile, 1), createProfileRegistry([profile]));
    return `| ${profile.id} (emoji-shaped test profile) | ${profile.prefix.length + profile.chars} | ${cell(t.decode, t.decodeMin)} | ${cell(t.encode, t.encodeMin)} | | | | |`;
  });
  const sd = parseKey(readFileSync(files[0], 'utf8'), createProfileRegistry());
  const nextMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    nextKey(sd);
    nextMs.push(performance.now() - t);
  }

  const pyNote =
    typeof py === 'string'
      ? `Seed codec not run: ${py}.`
      : `Seed codec: \`unpack_key\` / \`pack_data_into_key\` from its key_to_embedding.py, ${PY_ROUNDS} runs, both round-tripping the key.`;
  const verdict =
    typeof py === 'string'
      ? ''
      : `\nTarget ≥ 100× faster and < 2 ms per key: slowest median of ours ${f(worstMedian)} ms, smallest speed-up ${Math.round(minSpeedup)}× — ${minSpeedup >= 100 && worstMedian < 2 ? 'met' : 'NOT met'}.`;
  const markdown = [
    ...rows,
    ...emojiRows,
    '',
    `Cells: median (minimum) ms. Ours: ${ROUNDS} runs after 10 warm-up runs, measured before and after the Python run (the slower median and the faster minimum are shown); speed-ups compare minimums. Decode = \`parseKey\` (validates every character) + \`decodeKey\` to Float32Array, encode = \`encodeKey\` from those arrays. ${pyNote} \`nextKey\` on an sd-lob key: ${f(median(nextMs))} ms.${verdict}`,
  ].join('\n');
  return { title: 'Keyspace: sd-lob key decode / encode', markdown };
}
