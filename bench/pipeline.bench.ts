import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../pipeline/model/load.ts';
import { defaultModelDir, projectRoot } from '../pipeline/project-root.ts';
import { decodeModelKey } from '../pipeline/render/keys.ts';
import { renderKey } from '../pipeline/render/render.ts';
import { searchKey } from '../pipeline/render/search.ts';
import { Renderer } from '../pipeline/renderer/renderer.ts';
import { PIPELINE_REFERENCE, requirePythonModules } from './python-deps.ts';
import { median } from './stats.ts';

/**
 * Milliseconds per image for the default model (LOB_MODEL overrides), ours (onnxruntime-node, in-process and through
 * the worker pool) side by side with a PyTorch eager reference on the same weights, steps, guidance, inputs and
 * threads (bench/python/pipeline_ref.py, which fills the model helper's PyTorch modules from the ONNX files
 * themselves and reports every tensor it could not). Also: first image after process start (the CLI, wall clock), peak RSS,
 * where the time goes per stage, and how far the two images differ.
 */
const REPEAT = Number(process.env.LOB_BENCH_REPEAT ?? 8);
const TORCH_REPEAT = Number(process.env.LOB_BENCH_TORCH_REPEAT ?? 5);
const ROUNDS = Number(process.env.LOB_BENCH_ROUNDS ?? 3);
const THREADS = Number(process.env.LOB_BENCH_THREADS ?? availableParallelism());
const PROMPT = 'red heart';

const f = (x: number) => x.toFixed(1);

interface TorchReport {
  torch: string;
  ms: number[];
  cpu_per_wall: number;
  first_ms: number;
  startup_to_first_image_ms: number;
  peak_rss_mb: number;
  weights: Record<string, number | string[]>;
}

/** Wall time and peak RSS of a child process (GNU time's %M when present). */
function timedChild(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): { ms: number; rssMb: number | null; stdout: string; status: number | null; stderr: string } {
  const t0 = performance.now();
  const useTime = spawnSync('/usr/bin/time', ['--version']).status === 0;
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'LOB_RSS_KB %M', cmd, ...args], {
        encoding: 'utf8',
        cwd: projectRoot(),
        env: { ...process.env, ...env },
      })
    : spawnSync(cmd, args, { encoding: 'utf8', cwd: projectRoot(), env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  const m = /LOB_RSS_KB (\d+)/.exec(r.stderr ?? '');
  return { ms, rssMb: m ? Number(m[1]) / 1024 : null, stdout: r.stdout, status: r.status, stderr: r.stderr };
}

/** The PyTorch eager reference (bench/python/pipeline_ref.py) on the inputs written to `tmp`. OMP_WAIT_POLICY=PASSIVE:
 * its OpenMP threads then sleep when idle, as ours do (allowSpinning off); with spinning threads on a shared machine
 * it measured 30 s per image instead of 0.5 s. */
function torchReference(dir: string, tmp: string, steps: number, guidance: number, threads: number) {
  return timedChild(
    '/usr/bin/python3',
    [
      join(projectRoot(), 'bench', 'python', 'pipeline_ref.py'),
      ...['--model', dir, '--inputs', tmp, '--steps', String(steps), '--guidance', String(guidance)],
      ...['--threads', String(threads), '--repeat', String(TORCH_REPEAT)],
    ],
    { OMP_WAIT_POLICY: 'PASSIVE' },
  );
}

/** Median ms per image in process at a given intra-op thread count (fresh sessions, one warm-up render), and the
 * process's CPU time over wall time while timed: the cores it kept busy, to check the thread count held. */
async function oursAt(
  dir: string,
  key: string,
  threads: number,
  parallelGuidance?: boolean,
): Promise<{ ms: number; cpuPerWall: number }> {
  const model = await loadModel(dir, { intraOpNumThreads: threads, parallelGuidance });
  try {
    await renderKey(model, key);
    const ms: number[] = [];
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      await renderKey(model, key);
      ms.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    return { ms: median(ms), cpuPerWall: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0) };
  } finally {
    await model.release();
  }
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const dir = defaultModelDir();
  requirePythonModules('the PyTorch reference (bench/python/pipeline_ref.py)', PIPELINE_REFERENCE);
  const tmp = mkdtempSync(join(tmpdir(), 'lob-bench-'));
  try {
    const tLoad = performance.now();
    const model = await loadModel(dir, { intraOpNumThreads: THREADS });
    const loadMs = performance.now() - tLoad;
    const { key } = await searchKey(model, PROMPT, { seed: 1 });
    const d = decodeModelKey(model, key);
    const tFirst = performance.now();
    const first = await renderKey(model, key);
    const firstMs = performance.now() - tFirst;
    const runs = [];
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      const r = await renderKey(model, key);
      runs.push({ ms: performance.now() - t, ...r.timings });
      if (r.pngSha256 !== first.pngSha256) throw new Error('bench: a re-render changed the PNG bytes');
    }
    const oursMs = median(runs.map((r) => r.ms));
    const stepMs = median(runs.map((r) => r.denoiseMs / d.steps));
    const denoiseMs = median(runs.map((r) => r.denoiseMs));
    const decodeMs = median(runs.map((r) => r.decodeMs));
    const pngMs = median(runs.map((r) => r.pngMs));
    const rss = process.resourceUsage().maxRSS / 1024;
    writeFileSync(join(tmp, 'key.txt'), key);
    writeFileSync(join(tmp, 'cond.f32'), Buffer.from(d.embedding.buffer));
    writeFileSync(join(tmp, 'uncond.f32'), Buffer.from(model.uncond.buffer));
    writeFileSync(join(tmp, 'latent.f32'), Buffer.from(first.initialNoise.buffer));
    await model.release();

    // worker pool: 8 renders through Renderer (1 worker × THREADS threads, and THREADS workers × 1 thread)
    const pool: string[] = [];
    for (const [workers, threads] of [
      [1, THREADS],
      [THREADS, 1],
    ]) {
      const r = await Renderer.create({ modelDir: dir, workers, threadsPerWorker: threads, maxQueue: 16 });
      await Promise.all(Array.from({ length: workers }, () => r.render(key)));
      const t = performance.now();
      const results = await Promise.all(Array.from({ length: 8 }, () => r.render(key)));
      const per = (performance.now() - t) / 8;
      if (results.some((x) => x.pngSha256 !== first.pngSha256)) throw new Error('bench: worker render differs');
      pool.push(
        `| Renderer, ${workers} worker(s) × ${threads} thread(s), 8 concurrent renders | ${f(per)} ms/image (throughput) |`,
      );
      await r.close();
    }

    const cli = timedChild(process.execPath, [
      join(projectRoot(), 'bin', 'lob.mjs'),
      'render',
      `@${join(tmp, 'key.txt')}`,
      '-o',
      join(tmp, 'cli.png'),
      '--model',
      dir,
      '--threads',
      String(THREADS),
    ]);
    if (cli.status !== 0) throw new Error(`bench: lob render failed: ${cli.stderr}`);
    if (cli.stdout.trim() !== first.pngSha256) throw new Error('bench: the CLI rendered different bytes');

    const torchRows: string[] = [];
    const compare: string[] = [];
    for (const threads of [...new Set([1, THREADS])]) {
      // ours and PyTorch alternate, round by round, so drift in the machine's load hits both sides alike
      const oursRounds: number[] = [];
      const oursCpu: number[] = [];
      const torchRounds: number[] = [];
      const torchCpu: number[] = [];
      let py: ReturnType<typeof timedChild> | null = null;
      let t: TorchReport | null = null;
      for (let round = 0; round < ROUNDS; round++) {
        const ours = await oursAt(dir, key, threads);
        oursRounds.push(ours.ms);
        oursCpu.push(ours.cpuPerWall);
        py = torchReference(dir, tmp, d.steps, first.guidance, threads);
        if (py.status !== 0) break;
        t = JSON.parse(py.stdout.trim().split('\n').at(-1) as string) as TorchReport;
        torchRounds.push(median(t.ms));
        torchCpu.push(t.cpu_per_wall);
      }
      if (!py || !t || py.status !== 0) {
        const why = (py?.stderr ?? '')
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('LOB_RSS_KB'))
          .at(-1);
        torchRows.push(`| ${threads} thread(s): PyTorch reference | not run: ${why} |`);
        continue;
      }
      const ratios = torchRounds.map((x, i) => x / oursRounds[i]);
      // what the two guidance branches on two threads gain over one batch-2 call on all of them
      const batched = threads > 1 && first.guidance > 1 ? await oursAt(dir, key, threads, false) : null;
      torchRows.push(
        `| ${threads} thread(s): ours, median of ${ROUNDS} rounds × ${REPEAT} | **${f(median(oursRounds))} ms** |`,
        ...(batched
          ? [
              `| ${threads} thread(s): ours with guidance as one batch of 2 (\`parallelGuidance: false\`), median of ${REPEAT}; CPU time / wall | ${f(batched.ms)} ms; ${batched.cpuPerWall.toFixed(2)} |`,
            ]
          : []),
        `| ${threads} thread(s): PyTorch ${t.torch} eager, median of ${ROUNDS} rounds × ${t.ms.length} | **${f(median(torchRounds))} ms** |`,
        `| ${threads} thread(s): **speed-up** (PyTorch / ours), median of rounds [range] | **${median(ratios).toFixed(2)}×** [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}] |`,
        `| ${threads} thread(s): CPU time / wall while timed (cores kept busy), ours / PyTorch | ${median(oursCpu).toFixed(2)} / ${median(torchCpu).toFixed(2)} |`,
        `| ${threads} thread(s): PyTorch first image in process / process start → first image | ${f(t.first_ms)} ms / ${f(t.startup_to_first_image_ms)} ms |`,
        `| ${threads} thread(s): PyTorch peak RSS | ${f(py.rssMb ?? t.peak_rss_mb)} MB |`,
      );
      if (compare.length === 0) {
        const torchRgb = readFileSync(join(tmp, 'torch_rgb.u8'));
        const { default: sharp } = await import('sharp');
        const px = await sharp(first.png).raw().toBuffer();
        let maxPx = 0;
        for (let i = 0; i < px.length; i++) maxPx = Math.max(maxPx, Math.abs(px[i] - torchRgb[i]));
        const torchFinal = new Float32Array(readFileSync(join(tmp, 'torch_final.f32')).buffer.slice(0));
        let maxLat = 0;
        for (let i = 0; i < torchFinal.length; i++)
          maxLat = Math.max(maxLat, Math.abs(torchFinal[i] - first.finalLatent[i]));
        const w = t.weights as { [k: string]: number | string[] };
        const notIn = [...(w.unet_not_in_onnx as string[]), ...(w.vae_decoder_not_in_onnx as string[])];
        compare.push(
          '',
          `Same weights: ${w.unet_from_onnx} UNet and ${w.vae_decoder_from_onnx} VAE-decoder tensors copied from the ONNX initializers; ${notIn.length} not found there${notIn.length ? ` (e.g. ${notIn.slice(0, 4).join(', ')})` : ''}.`,
          maxLat < 1e-3
            ? `Same result: the final latents (UNet + scheduler + guidance) agree to max |Δ| = ${maxLat.toExponential(2)}.`
            : `**Final latents differ** (max |Δ| = ${maxLat.toExponential(2)}): the UNet weights or the sampler math do not match.`,
          (w.vae_decoder_not_in_onnx as string[]).length === 0
            ? `Decoded 8-bit images: max |Δ| = ${maxPx} levels.`
            : `Decoded images not compared: the decoder checkpoint is not the exported one (max |Δ| = ${maxPx} levels); the decoder is ${f(decodeMs)} ms of ours.`,
        );
      }
    }

    const markdown = [
      `Model \`${first.model.name}\` ${first.model.version} (${dir.replace(`${projectRoot()}/`, '')}), key from "${PROMPT}" seed 1: ${d.steps} steps, ${first.scheduler}, guidance ${first.guidance} (${runs[0].unetCalls} UNet calls per image; guidance branches: ${first.settings.unet.guidance}, UNet threads ${first.settings.unet.threads.join(' + ')}), ${first.settings.imageSize.join('×')} image; ${THREADS} intra-op threads, graph optimisation \`${first.settings.session.graphOptimizationLevel}\`, ${first.settings.session.executionProvider}.`,
      '',
      '| measurement | value |',
      '|---|---|',
      `| ours (onnxruntime-node ${first.settings.session.onnxruntimeVersion}), in process, median of ${REPEAT} | **${f(oursMs)} ms** |`,
      `| — denoising loop | ${f(denoiseMs)} ms (${f(stepMs)} ms per step: UNet calls and scheduler math) |`,
      `| — VAE decode | ${f(decodeMs)} ms |`,
      `| — PNG encode + text chunks | ${f(pngMs)} ms |`,
      `| ours: model load (sessions, tokenizer, hashes, uncond) | ${f(loadMs)} ms |`,
      `| ours: first render after load | ${f(firstMs)} ms |`,
      `| ours: \`lob render\` process start → PNG written (wall) | **${f(cli.ms)} ms** |`,
      `| ours: peak RSS (bench process) / \`lob render\` process | ${f(rss)} MB / ${cli.rssMb === null ? 'n/a' : `${f(cli.rssMb)} MB`} |`,
      ...pool,
      ...torchRows,
      ...compare,
    ].join('\n');
    return { title: 'Generation pipeline: ms per image vs PyTorch eager', markdown };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
