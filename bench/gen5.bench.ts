import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeGen5, encodeGen5 } from '../gen5/index.ts';
import { currentEnvironment } from '../lib/environment.ts';
import { encodeNpy } from '../lib/npy.ts';
import { GEN5_REFERENCE, requirePythonModules } from './python-deps.ts';
import { median } from './stats.ts';

/**
 * Encode + decode of one .gen5 file holding a 1×4×64×64 float32 latent (zstd) and a 512×512 PNG, through files
 * on disk, lob against gen5 0.1.0 (Python, Gen5FileHandler) on the same inputs. Both decoders compare the ENVC
 * with the current environment (0.1.0 always does). Python side: bench/python/gen5_bench.py, needs GEN5_SRC.
 */
const ROUNDS = 40;
// Three alternating trials per side, samples pooled: the machine's load drifts, and alternating spreads the drift
// over both sides instead of landing on whichever ran second.
const TRIALS = 3;
const WARMUP = 10; // V8 optimises the hot paths only after some calls
const GEN5_SRC = process.env.GEN5_SRC ?? '/tmp/gen5-src';

/** Deterministic inputs: Box–Muller normals for the latent, smooth colour fields plus noise for the image. */
async function makeInputs(dir: string): Promise<{ latent: Float32Array; png: Uint8Array }> {
  let s = 12345;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const latent = Float32Array.from(
    { length: 4 * 64 * 64 },
    () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
  const rgb = new Uint8Array(512 * 512 * 3);
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const i = (y * 512 + x) * 3;
      rgb[i] = (128 + 100 * Math.sin(x / 40) + 20 * uniform()) & 255;
      rgb[i + 1] = (128 + 100 * Math.cos(y / 30) + 20 * uniform()) & 255;
      rgb[i + 2] = ((x + y) / 4 + 20 * uniform()) & 255;
    }
  }
  const png = new Uint8Array(
    await sharp(rgb, { raw: { width: 512, height: 512, channels: 3 } })
      .png()
      .toBuffer(),
  );
  writeFileSync(join(dir, 'latent.npy'), encodeNpy(latent, [1, 4, 64, 64]));
  writeFileSync(join(dir, 'image.png'), png);
  return { latent, png };
}

interface Timings {
  encode: number[];
  decode: number[];
  encodeCpu: number[];
  decodeCpu: number[];
  bytes: number;
  /** lob only: decode without the SHA-256 checks, the work gen5 0.1.0's decoder does. */
  bareDecode?: number[];
  bareDecodeCpu?: number[];
  /** lob only: SHA-256 (node:crypto) of the decoded payloads alone, the least a decode that checks them costs. */
  hashOnly?: number[];
  hashOnlyCpu?: number[];
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measureOurs(latent: Float32Array, png: Uint8Array, file: string): Promise<Timings> {
  const environment = await currentEnvironment();
  const t: Timings = {
    encode: [],
    decode: [],
    encodeCpu: [],
    decodeCpu: [],
    bytes: 0,
    bareDecode: [],
    bareDecodeCpu: [],
    hashOnly: [],
    hashOnlyCpu: [],
  };
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const [w0, c0] = [performance.now(), cpuMs()];
    const bytes = await encodeGen5({
      latents: [
        { name: 'initial_noise', dtype: 'float32', shape: [1, 4, 64, 64], data: new Uint8Array(latent.buffer) },
      ],
      image: png,
      modelInfo: {
        model_name: 'bench',
        version: '1',
        prompt: 'bench',
        tags: [],
        generation_settings: { seed: 1, steps: 8, sampler: 'ddim' },
        hardware_info: { os: 'linux' },
      },
      environment,
    });
    writeFileSync(file, bytes);
    const [w1, c1] = [performance.now(), cpuMs()];
    const decoded = await decodeGen5(readFileSync(file), { currentEnvironment: environment });
    const [w2, c2] = [performance.now(), cpuMs()];
    await decodeGen5(readFileSync(file), { currentEnvironment: environment, verifyHashes: false });
    const [w3, c3] = [performance.now(), cpuMs()];
    for (const payload of [decoded.latents[0].data, decoded.image ?? new Uint8Array(0), decoded.envc?.text ?? '']) {
      createHash('sha256').update(payload).digest('hex');
    }
    const [w4, c4] = [performance.now(), cpuMs()];
    if (decoded.latents[0].data.length !== latent.byteLength) throw new Error('bench: latent did not round-trip');
    if (i >= WARMUP) {
      t.encode.push(w1 - w0);
      t.decode.push(w2 - w1);
      t.encodeCpu.push(c1 - c0);
      t.decodeCpu.push(c2 - c1);
      t.bareDecode?.push(w3 - w2);
      t.bareDecodeCpu?.push(c3 - c2);
      t.hashOnly?.push(w4 - w3);
      t.hashOnlyCpu?.push(c4 - c3);
    }
    t.bytes = bytes.length;
  }
  return t;
}

function measurePython(dir: string): Timings {
  const py = JSON.parse(
    execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'python', 'gen5_bench.py'), dir, String(ROUNDS)], {
      env: { ...process.env, GEN5_SRC },
      encoding: 'utf8',
    }),
  );
  return {
    encode: py.encode_ms,
    decode: py.decode_ms,
    encodeCpu: py.encode_cpu_ms,
    decodeCpu: py.decode_cpu_ms,
    bytes: py.bytes,
  };
}

function pool(ts: Timings[]): Timings {
  const cat = (f: (t: Timings) => number[] | undefined) => ts.flatMap((t) => f(t) ?? []);
  return {
    encode: cat((t) => t.encode),
    decode: cat((t) => t.decode),
    encodeCpu: cat((t) => t.encodeCpu),
    decodeCpu: cat((t) => t.decodeCpu),
    bareDecode: cat((t) => t.bareDecode),
    bareDecodeCpu: cat((t) => t.bareDecodeCpu),
    hashOnly: cat((t) => t.hashOnly),
    hashOnlyCpu: cat((t) => t.hashOnlyCpu),
    bytes: ts[0].bytes,
  };
}

function row(name: string, t: Timings): string {
  const [e, d, ec, dc] = [t.encode, t.decode, t.encodeCpu, t.decodeCpu].map(median);
  return `| ${name} | ${e.toFixed(2)} | ${d.toFixed(2)} | **${(e + d).toFixed(2)}** | ${ec.toFixed(2)} | ${dc.toFixed(2)} | **${(ec + dc).toFixed(2)}** | ${t.bytes} |`;
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lob-gen5-bench-'));
  try {
    const { latent, png } = await makeInputs(dir);
    const hasPython = existsSync(join(GEN5_SRC, 'gen5', '__init__.py'));
    if (hasPython) requirePythonModules('gen5 0.1.0 (bench/python/gen5_bench.py)', GEN5_REFERENCE);
    const trials: { ours: Timings[]; theirs: Timings[] } = { ours: [], theirs: [] };
    for (let k = 0; k < TRIALS; k++) {
      trials.ours.push(await measureOurs(latent, png, join(dir, 'lob.gen5')));
      if (hasPython) trials.theirs.push(measurePython(dir));
    }
    const ours = pool(trials.ours);
    const rows = [
      '| implementation | encode wall ms | decode wall ms | total wall | encode CPU ms | decode CPU ms | total CPU | file bytes |',
      '|---|---|---|---|---|---|---|---|',
      row('lob gen5/ (TypeScript, zstd-wasm)', ours),
      row('lob, decode without SHA-256 checks (0.1.0 does none)', {
        ...ours,
        decode: ours.bareDecode ?? [],
        decodeCpu: ours.bareDecodeCpu ?? [],
      }),
    ];
    let summary: string;
    if (hasPython) {
      const theirs = pool(trials.theirs);
      const pyVersion = execFileSync('/usr/bin/python3', ['-c', 'import platform; print(platform.python_version())'], {
        encoding: 'utf8',
      }).trim();
      rows.push(row(`gen5 0.1.0 (Python ${pyVersion}, python-zstandard)`, theirs));
      const total = (t: number[], u: number[]) => median(t) + median(u);
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
      const pyWall = total(theirs.encode, theirs.decode);
      const pyCpu = total(theirs.encodeCpu, theirs.decodeCpu);
      summary = [
        'Ratio gen5 0.1.0 time / lob time (> 1: lob is faster), encode + decode:',
        `**${ratio(pyWall, total(ours.encode, ours.decode))} wall, ${ratio(pyCpu, total(ours.encodeCpu, ours.decodeCpu))} CPU** with lob checking every hash;`,
        `${ratio(pyWall, total(ours.encode, ours.bareDecode ?? []))} wall, ${ratio(pyCpu, total(ours.encodeCpu, ours.bareDecodeCpu ?? []))} CPU doing 0.1.0's work.`,
        `Encode alone ${ratio(median(theirs.encode), median(ours.encode))} wall, ${ratio(median(theirs.encodeCpu), median(ours.encodeCpu))} CPU;`,
        `decode alone ${ratio(median(theirs.decode), median(ours.decode))} wall, ${ratio(median(theirs.decodeCpu), median(ours.decodeCpu))} CPU.`,
        `The SHA-256 of the three payloads alone (node:crypto, what checking them costs at least on one thread) takes ${median(ours.hashOnly ?? []).toFixed(2)} ms wall, ${median(ours.hashOnlyCpu ?? []).toFixed(2)} ms CPU:`,
        `${((100 * median(ours.hashOnlyCpu ?? [])) / median(theirs.decodeCpu)).toFixed(0)}% of 0.1.0's whole decode (CPU).`,
      ].join(' ');
    } else {
      summary = `gen5 0.1.0 not measured: no checkout at GEN5_SRC=${GEN5_SRC}.`;
    }
    const markdown = [
      `Inputs: a 1×4×64×64 float32 latent (zstd level 3, not cast to float16) and a ${png.length}-byte 512×512 PNG. Each round encodes to a file on disk and decodes it back; medians of ${TRIALS} × ${ROUNDS} rounds, the two sides alternating trial by trial, each trial after warm-ups (lob ${WARMUP}, Python 2). Both decoders compare ENVC with the current environment; lob's also checks every SHA-256 and the schema, which 0.1.0's does not. CPU time is the process's user + system time (all threads), which is steadier than wall time on a loaded machine.`,
      '',
      ...rows,
      '',
      summary,
    ].join('\n');
    return { title: 'gen5: encode + decode against gen5 0.1.0', markdown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
