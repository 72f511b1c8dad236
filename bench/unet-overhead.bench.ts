import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openSession, resolveSessionSettings } from '../pipeline/onnx/sessions.ts';
import { defaultModelDir, projectRoot } from '../pipeline/project-root.ts';
import { median } from './stats.ts';

/**
 * Where the speed ratio against PyTorch eager comes from: one batch-2 UNet call of the default model at 1 thread, on
 * its 16×16 latent and on a 4×4 one whose arithmetic is negligible, so the 4×4 time is per-operation overhead and the
 * difference is arithmetic. Both sides run the same weights (bench/python/unet_overhead.py fills PyTorch from the
 * shipped ONNX file and exports the UNet with dynamic height and width, which onnxruntime then runs with the pinned
 * session options of a render).
 */
const SIZES = [16, 4];
const REPS = 100;

/** Median ms per call, and CPU time over wall time while timed (≈ 1 if one thread did the work). */
async function ortMs(path: string, hw: number): Promise<{ ms: number; cpuPerWall: number }> {
  const { session } = await openSession(path, resolveSessionSettings({ intraOpNumThreads: 1 }), []);
  const n = 2 * 4 * hw * hw;
  const feeds = () => ({
    sample: new ort.Tensor(
      'float32',
      Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
      [2, 4, hw, hw],
    ),
    timestep: new ort.Tensor('int64', BigInt64Array.from([500n, 500n]), [2]),
    encoder_hidden_states: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2048 }, (_, i) => Math.cos(i)),
      [2, 16, 64],
    ),
  });
  try {
    for (let i = 0; i < 5; i++) await session.run(feeds());
    const ms: number[] = [];
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < REPS; i++) {
      const t = performance.now();
      await session.run(feeds());
      ms.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    return { ms: median(ms), cpuPerWall: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0) };
  } finally {
    await session.release();
  }
}

/** GFLOP/s of onnxruntime's single-thread float32 matrix product: `chain` products of n×n per run
 * (bench/python/unet_overhead.py writes the graph). */
async function sgemmGflops(path: string, { n, chain }: { n: number; chain: number }): Promise<number> {
  const { session } = await openSession(path, resolveSessionSettings({ intraOpNumThreads: 1 }), []);
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7),
    [n, n],
  );
  try {
    for (let i = 0; i < 5; i++) await session.run({ x });
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await session.run({ x });
      ms.push(performance.now() - t);
    }
    return (2 * chain * n ** 3) / median(ms) / 1e6;
  } finally {
    await session.release();
  }
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const dir = defaultModelDir();
  const tmp = mkdtempSync(join(tmpdir(), 'lob-overhead-'));
  try {
    const py = spawnSync(
      '/usr/bin/python3',
      [join(projectRoot(), 'bench', 'python', 'unet_overhead.py'), '--model', dir, '--out', tmp],
      { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } },
    );
    if (py.status !== 0) throw new Error(`bench: unet_overhead.py failed: ${py.stderr.trim().split('\n').at(-1)}`);
    const t = JSON.parse(py.stdout.trim().split('\n').at(-1) as string) as {
      torch: string;
      ms: Record<string, number>;
      cpu_per_wall: Record<string, number>;
      mflop: { conv: number; linear: number; attention: number };
      torch_sgemm_gflops: number;
      sgemm: { n: number; chain: number };
      unet_from_onnx: number;
      unet_not_in_onnx: string[];
    };
    const ours: Record<number, number> = {};
    const oursCpu: number[] = [];
    for (const hw of SIZES) {
      const r = await ortMs(join(tmp, 'unet_hw.onnx'), hw);
      ours[hw] = r.ms;
      oursCpu.push(r.cpuPerWall);
    }
    const mlasGflops = await sgemmGflops(join(tmp, 'sgemm.onnx'), t.sgemm);
    const mflop = t.mflop.conv + t.mflop.linear + t.mflop.attention;
    const floorMs = mflop / Math.max(mlasGflops, t.torch_sgemm_gflops);
    const cpuRange = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    const [big, small] = SIZES;
    const row = (label: string, a: number, b: number) =>
      `| ${label} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}× |`;
    const markdown = [
      `Model UNet of ${dir.replace(`${projectRoot()}/`, '')}, one call of batch 2 (classifier-free guidance), 1 thread, medians of ${REPS} calls (onnxruntime-node ${ort.env.versions.node}, pinned render options) and 60 calls (PyTorch ${t.torch} eager); PyTorch filled from the ONNX file (${t.unet_from_onnx} tensors, ${t.unet_not_in_onnx.length} not found).`,
      '',
      '| ms per UNet call | PyTorch eager | ours | PyTorch / ours |',
      '|---|---|---|---|',
      row(`${big}×${big} latent (the model's)`, t.ms[big], ours[big]),
      row(`${small}×${small} latent: per-operation overhead`, t.ms[small], ours[small]),
      row('difference: arithmetic', t.ms[big] - t.ms[small], ours[big] - ours[small]),
      '',
      `CPU time / wall while timed (1.00 = one core busy): ours ${cpuRange(oursCpu)}, PyTorch ${cpuRange(Object.values(t.cpu_per_wall))}.`,
      '',
      `Arithmetic floor: the call is ${mflop.toFixed(0)} MFLOP (convolutions ${t.mflop.conv.toFixed(0)}, linear layers ${t.mflop.linear.toFixed(0)}, attention products ${t.mflop.attention.toFixed(0)}); a ${t.sgemm.n}² float32 matrix product at 1 thread runs at ${mlasGflops.toFixed(1)} GFLOP/s in onnxruntime (MLAS) and ${t.torch_sgemm_gflops.toFixed(1)} GFLOP/s in PyTorch (OpenBLAS), so even at the faster of the two the call needs ${floorMs.toFixed(2)} ms of multiply-adds.`,
      '',
      `2× on the whole call needs ours ≤ ${(t.ms[big] / 2).toFixed(2)} ms: ${(t.ms[big] / 2 - floorMs).toFixed(2)} ms beyond the floor for everything else (norms, activations, softmax, layout changes, residual adds), which take ${(ours[big] - floorMs).toFixed(2)} ms of ours now.`,
    ].join('\n');
    return { title: 'UNet call: overhead against arithmetic', markdown };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
