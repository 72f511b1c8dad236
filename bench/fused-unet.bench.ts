import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openSession, resolveSessionSettings } from '../pipeline/onnx/sessions.ts';
import { defaultModelDir, projectRoot } from '../pipeline/project-root.ts';
import { median } from './stats.ts';

/**
 * Do fewer, fused operators make the default model's UNet faster? bench/python/fused_unet.py exports the same weights
 * as the same function with onnxruntime's fused attention operators, fixed spatial shapes, 2-D tokens and one Gemm
 * for the time-embedding projections; both graphs then run one batch-2 call at 1 thread with the pinned render
 * options, alternating in rounds so drift in the machine's load hits both alike.
 */
const ROUNDS = 10;
const CALLS = 30;

function feeds(): Record<string, ort.Tensor> {
  return {
    sample: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2048 }, (_, i) => Math.sin(i * 0.37)),
      [2, 4, 16, 16],
    ),
    timestep: new ort.Tensor('int64', BigInt64Array.from([999n, 500n]), [2]),
    encoder_hidden_states: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2048 }, (_, i) => Math.cos(i * 0.11)),
      [2, 16, 64],
    ),
  };
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const dir = defaultModelDir();
  const tmp = mkdtempSync(join(tmpdir(), 'lob-fused-'));
  try {
    const py = spawnSync(
      '/usr/bin/python3',
      [join(projectRoot(), 'bench', 'python', 'fused_unet.py'), '--model', dir, '--out', tmp],
      { encoding: 'utf8' },
    );
    if (py.status !== 0) throw new Error(`bench: fused_unet.py failed: ${py.stderr.trim().split('\n').at(-1)}`);
    const r = JSON.parse(py.stdout.trim().split('\n').at(-1) as string) as {
      nodes: { shipped: number; fused: number };
      max_abs_diff_vs_torch: number;
    };
    const settings = resolveSessionSettings({ intraOpNumThreads: 1 });
    const graphs = [
      { name: 'shipped unet/model.onnx', path: join(dir, 'unet', 'model.onnx'), nodes: r.nodes.shipped },
      { name: 'fused export', path: join(tmp, 'fused.onnx'), nodes: r.nodes.fused },
    ];
    const sessions = await Promise.all(graphs.map((g) => openSession(g.path, settings, [])));
    const input = feeds();
    const outs = await Promise.all(
      sessions.map(async (s) => (await s.session.run(input)).out_sample.data as Float32Array),
    );
    let maxDiff = 0;
    for (let i = 0; i < outs[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(outs[0][i] - outs[1][i]));
    const rounds: number[][] = graphs.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, { session }] of sessions.entries()) {
        for (let k = 0; k < 5; k++) await session.run(input);
        const t = performance.now();
        for (let k = 0; k < CALLS; k++) await session.run(input);
        rounds[i].push((performance.now() - t) / CALLS);
      }
    }
    for (const s of sessions) await s.session.release();
    const [shipped, fused] = rounds.map(median);
    const markdown = [
      `Default model's UNet (${dir.replace(`${projectRoot()}/`, '')}), one batch-2 call, 1 thread, onnxruntime-node ${ort.env.versions.node} with the pinned render options; median over ${ROUNDS} alternating rounds of ${CALLS} calls. The fused export matches the PyTorch module to ${r.max_abs_diff_vs_torch.toExponential(1)} and the shipped graph to ${maxDiff.toExponential(1)}.`,
      '',
      '| graph | exported operators | ms per call |',
      '|---|---|---|',
      ...graphs.map((g, i) => `| ${g.name} | ${g.nodes} | ${[shipped, fused][i].toFixed(2)} |`),
      '',
      `Fused / shipped: ${(fused / shipped).toFixed(3)}×.`,
    ].join('\n');
    return { title: 'UNet call: fused operators', markdown };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
