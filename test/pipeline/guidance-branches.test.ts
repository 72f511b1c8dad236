import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { resolveSessionSettings } from '../../pipeline/onnx/sessions.ts';
import { defaultModelDir } from '../../pipeline/project-root.ts';
import { type RenderResult, renderKey } from '../../pipeline/render/render.ts';
import { UnetBranch, UnetBranchError } from '../../pipeline/unet/branch.ts';
import { runUnet } from '../../pipeline/unet/call.ts';
import { keyFor, TINY_EMOJI } from './helpers.ts';

// A UNet whose batch-1 and batch-2 outputs differ in the last bits (pipeline/fixture-makers/make_token_mean_unet.py).
const TOKEN_MEAN = join(import.meta.dirname, '..', 'fixtures', 'tiny-emoji-variants', 'unet-token-mean.onnx');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function withTokenMeanUnet(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lob-branches-'));
  dirs.push(dir);
  cpSync(TINY_EMOJI, dir, { recursive: true });
  copyFileSync(TOKEN_MEAN, join(dir, 'unet', 'model.onnx'));
  return dir;
}

async function renderWith(dir: string, threads: number, extra: { parallelGuidance?: boolean } = {}) {
  const model = await loadModel(dir, { intraOpNumThreads: threads, ...extra });
  try {
    const key = await keyFor(model, 'red heart', 5, 8);
    const first = await renderKey(model, key);
    const second = await renderKey(model, key);
    return { first, second, unetThreads: model.guided.threads };
  } finally {
    await model.release();
  }
}

/** out_sample of one batch-2 call and of its two samples as batch-1 calls, on deterministic inputs. */
async function batchOneAndTwo(model: Model): Promise<{ two: Float32Array; ones: Float32Array }> {
  const [c, h, w] = model.shapes.latent;
  const n = c * h * w;
  const m = model.shapes.tokens * model.shapes.hidden;
  const sample = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 0.37));
  const states = Float32Array.from({ length: 2 * m }, (_, i) => Math.cos(i * 0.11));
  const run = async (b: number, from: number) =>
    Float32Array.from(
      await runUnet(
        model.unet.session,
        model.shapes,
        sample.slice(from * n, (from + b) * n),
        500,
        states.slice(from * m, (from + b) * m),
        b,
      ),
    );
  const ones = new Float32Array(2 * n);
  ones.set(await run(1, 0), 0);
  ones.set(await run(1, 1), n);
  return { two: await run(2, 0), ones };
}

const bits = (r: RenderResult) => r.pngSha256;

describe('guidance branches in parallel', () => {
  it('2 threads run the two branches at once, one thread each, and give the bits of one batch of 2', async () => {
    const one = await renderWith(TINY_EMOJI, 1);
    const two = await renderWith(TINY_EMOJI, 2);
    expect(one.unetThreads).toEqual([1]);
    expect(one.first.settings.unet).toEqual({ threads: [1], guidance: 'batch' });
    expect(two.unetThreads).toEqual([1, 1]);
    expect(two.first.settings.unet).toEqual({ threads: [1, 1], guidance: 'parallel' });
    expect(two.second.settings.unet.guidance).toBe('parallel');
    // the first parallel step also ran batched once, to compare (3 calls); after that 2 per step
    expect(two.first.timings.unetCalls).toBe(8 * 2 + 1);
    expect(two.second.timings.unetCalls).toBe(8 * 2);
    expect(bits(two.first)).toBe(bits(one.first));
    expect(bits(two.second)).toBe(bits(one.first));
    expect(two.first.finalLatent).toEqual(one.first.finalLatent);
  });

  it('3 threads split 2 + 1; parallelGuidance false keeps one session on all threads', async () => {
    const three = await renderWith(TINY_EMOJI, 3);
    expect(three.unetThreads).toEqual([2, 1]);
    const off = await renderWith(TINY_EMOJI, 2, { parallelGuidance: false });
    expect(off.unetThreads).toEqual([2]);
    expect(off.first.settings.unet.guidance).toBe('batch');
    expect(bits(three.first)).toBe(bits(off.first));
  });

  it('a UNet whose batch-1 bits differ from batch-2 is caught at the first step and runs batched, with a warning', async () => {
    const dir = withTokenMeanUnet();
    const one = await renderWith(dir, 1);
    const two = await renderWith(dir, 2);
    const probe = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      const { two: batched, ones } = await batchOneAndTwo(probe);
      expect(ones).not.toEqual(batched); // the fixture really is batch-dependent
    } finally {
      await probe.release();
    }
    expect(two.first.settings.unet.guidance).toBe('batch');
    expect(two.first.settings.warnings.join('\n')).toMatch(/batch-1 and batch-2 outputs differ/);
    expect(bits(two.first)).toBe(bits(one.first));
    expect(bits(two.second)).toBe(bits(one.first));
  });

  it("the default model's UNet computes every sample alone: batch 1 and batch 2 give the same bits", async () => {
    const model = await loadModel(defaultModelDir(), { intraOpNumThreads: 1 });
    try {
      const { two, ones } = await batchOneAndTwo(model);
      expect(new Uint32Array(ones.buffer)).toEqual(new Uint32Array(two.buffer));
    } finally {
      await model.release();
    }
  });

  it('an idle branch thread does not keep the process alive: a script that never releases the model still exits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lob-exit-'));
    dirs.push(dir);
    const script = join(dir, 'no-release.mts');
    const pipeline = (f: string) => JSON.stringify(join(import.meta.dirname, '..', '..', 'pipeline', f));
    writeFileSync(
      script,
      [
        `import { loadModel } from ${pipeline('model/load.ts')};`,
        `import { renderKey } from ${pipeline('render/render.ts')};`,
        `import { keyFor, TINY_EMOJI } from ${JSON.stringify(join(import.meta.dirname, 'helpers.ts'))};`,
        'const model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 2 });',
        "const r = await renderKey(model, await keyFor(model, 'red heart', 5, 8));",
        'console.log(r.settings.unet.guidance, r.pngSha256);',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.error).toBeUndefined(); // no timeout
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^parallel [0-9a-f]{64}$/m);
  });

  it('a branch thread that cannot open its UNet fails with a UnetBranchError naming the file', async () => {
    const missing = join(tmpdir(), 'lob-no-such-unet.onnx');
    const err = await UnetBranch.open(missing, resolveSessionSettings({ intraOpNumThreads: 1 })).catch((e) => e);
    expect(err).toBeInstanceOf(UnetBranchError);
    expect(String(err.message)).toContain('lob-no-such-unet.onnx');
  });
});
