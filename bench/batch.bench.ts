import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomKey } from '../keyspace/index.ts';
import { writeWhole } from '../lib/batch/files.ts';
import { parseManifest, runBatch } from '../lib/batch/index.ts';
import { encodeNpy } from '../lib/npy.ts';
import { defaultModelDir, loadModel, projectRoot, renderKey } from '../pipeline/index.ts';

/**
 * Research batches on the default model: images/s of `lob batch` for ROWS key rows, beside one process rendering
 * the same keys serially (sessions on every core, the same files written) and a shell loop of `lob render` (a
 * process per image: measured on SHELL_ROWS keys, its rate applied to ROWS).
 */
const ROWS = Number(process.env.LOB_BENCH_BATCH_ROWS ?? 1000);
const SHELL_ROWS = Number(process.env.LOB_BENCH_BATCH_SHELL_ROWS ?? 20);

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'lob-bench-batch-'));
  try {
    const model = await loadModel(defaultModelDir());
    const keys = Array.from({ length: ROWS }, (_, i) => randomKey(model.profile, BigInt(i)));
    const manifest = keys.map((key) => JSON.stringify({ key })).join('\n');

    // one process, serially: render, then the same PNG + .npy writes as a batch row
    let t = performance.now();
    for (const [i, key] of keys.entries()) {
      const r = await renderKey(model, key);
      await writeWhole(tmp, `serial/${i}.png`, r.png);
      await writeWhole(tmp, `serial/${i}.npy`, encodeNpy(r.finalLatent, model.shapes.latent));
    }
    const serialS = (performance.now() - t) / 1000;
    const threads = model.settings.intraOpNumThreads;
    await model.release();

    const workers = availableParallelism();
    t = performance.now();
    let ok = 0;
    for await (const r of runBatch(parseManifest(manifest, 'jsonl'), {
      out: join(tmp, 'batch'),
      workers,
      threadsPerWorker: 1,
    }))
      if (r.entry.status === 'ok') ok++;
    const batchS = (performance.now() - t) / 1000;
    if (ok !== ROWS) throw new Error(`batch rendered ${ok} of ${ROWS} rows`);

    const lob = join(projectRoot(), 'bin', 'lob.mjs');
    t = performance.now();
    for (const [i, key] of keys.slice(0, SHELL_ROWS).entries()) {
      writeFileSync(join(tmp, 'k.txt'), key);
      const r = spawnSync(process.execPath, [
        lob,
        'render',
        `@${join(tmp, 'k.txt')}`,
        '-o',
        join(tmp, `shell-${i}.png`),
      ]);
      if (r.status !== 0) throw new Error(`lob render failed: ${r.stderr}`);
    }
    const shellPerImage = (performance.now() - t) / 1000 / SHELL_ROWS;

    const rate = (s: number) => ROWS / s;
    const rows = [
      [
        'shell loop over `lob render` (a process per image)',
        1 / shellPerImage,
        `${SHELL_ROWS} images timed, ×${ROWS / SHELL_ROWS}`,
      ],
      [`one process, serially (${threads} threads)`, rate(serialS), `${ROWS} images`],
      [`\`lob batch\` (runBatch), ${workers} workers × 1 thread`, rate(batchS), `${ROWS} images`],
    ] as const;
    const reference = rows[1][1];
    const table = rows
      .map(
        ([what, ips, how]) =>
          `| ${what} | ${ips.toFixed(2)} | ${(1000 / ips).toFixed(1)} | ${(ips / reference).toFixed(2)}× | ${how} |`,
      )
      .join('\n');
    return {
      title: `Research batches: ${ROWS} rows`,
      markdown: `Key rows (\`randomKey(profile, i)\` for i < ${ROWS}) on the default model; each image's PNG and final-latent .npy written. Reference: one process rendering serially.

| how | images/s | ms per image | vs reference | measured |
|---|---:|---:|---:|---|
${table}

Whole ${ROWS}-row times: batch ${batchS.toFixed(1)} s, serial ${serialS.toFixed(1)} s, shell loop ${(shellPerImage * ROWS).toFixed(0)} s (extrapolated).`,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
