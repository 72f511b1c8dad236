// `npx tsx bench/pipeline-profile.ts [MODEL_DIR] [THREADS]`: where a render's time goes, per ONNX operator type.
// Runs the model's UNet and VAE decoder with onnxruntime's profiler on, with the same pinned options as renders and
// the shapes a guided render feeds (batch 2 UNet, batch 1 decoder), and prints the share of kernel time per op type.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../pipeline/model/load.ts';
import { defaultModelDir } from '../pipeline/project-root.ts';

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

const RUNS = 20;

async function profile(path: string, feeds: Record<string, ort.Tensor>, threads: number, dir: string): Promise<string> {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'ort'),
  });
  for (let i = 0; i < RUNS; i++) await session.run(feeds);
  // the node binding's endProfiling does not return the file name: find the one file it wrote in our temp dir
  await session.endProfiling();
  await session.release();
  const file = readdirSync(dir)
    .filter((f) => f.startsWith('ort') && f.endsWith('.json'))
    .sort()
    .at(-1) as string;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(join(dir, file));
  const byOp = new Map<string, number>();
  let kernel = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    kernel += e.dur;
  }
  const runs = events.filter((e) => e.name === 'model_run');
  const runMs = runs.reduce((a, e) => a + e.dur, 0) / runs.length / 1000;
  const rows = [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  return [
    `${path.split('/').slice(-2).join('/')}: ${runMs.toFixed(2)} ms per run (profiled), kernels ${(kernel / runs.length / 1000).toFixed(2)} ms`,
    ...rows.map(([op, us]) => `  ${op.padEnd(24)} ${((100 * us) / kernel).toFixed(1).padStart(5)}%`),
  ].join('\n');
}

const dir = process.argv[2] ?? defaultModelDir();
const threads = Number(process.argv[3] ?? 1);
const model = await loadModel(dir, { intraOpNumThreads: threads });
const [c, h, w] = model.shapes.latent;
const { tokens, hidden } = model.shapes;
const tmp = mkdtempSync(join(tmpdir(), 'lob-profile-'));
try {
  const t = model.shapes.timestepType;
  const timestep =
    t === 'float32'
      ? new ort.Tensor('float32', new Float32Array([500, 500]), model.shapes.timestepRank ? [2] : [])
      : new ort.Tensor('int64', new BigInt64Array([500n, 500n]), [2]);
  const unet = await profile(
    model.folder.onnx.unet,
    {
      sample: new ort.Tensor('float32', new Float32Array(2 * c * h * w).fill(0.1), [2, c, h, w]),
      timestep,
      encoder_hidden_states: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * tokens * hidden }, (_, i) => Math.sin(i)),
        [2, tokens, hidden],
      ),
    },
    threads,
    tmp,
  );
  const vae = await profile(
    model.folder.onnx.vaeDecoder,
    { latent_sample: new ort.Tensor('float32', new Float32Array(c * h * w).fill(0.1), [1, c, h, w]) },
    threads,
    tmp,
  );
  process.stdout.write(`${threads} intra-op thread(s), ${RUNS} runs each\n${unet}\n${vae}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await model.release();
}
