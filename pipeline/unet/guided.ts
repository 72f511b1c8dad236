import type { OpenedSession } from '../onnx/sessions.ts';
import { type UnetBranch, UnetBranchError } from './branch.ts';
import { runUnet, type UnetShapes } from './call.ts';

/**
 * How a guided step runs its unconditional and conditional branches:
 * - 'batch': one call of batch 2 (one thread pool does both);
 * - 'parallel': two calls of batch 1 at once, one on the caller's session and one on a UnetBranch thread;
 * - 'sequential': two calls of batch 1, one after the other (a UNet whose batch is fixed at 1, without a branch).
 */
export type GuidanceMode = 'batch' | 'parallel' | 'sequential';

export interface GuidedOutput {
  uncond: Float32Array;
  cond: Float32Array;
  calls: number;
}

/**
 * The two branches of classifier-free guidance. Running them in parallel must not change an image: a key gives
 * the same bits whatever the thread count. So before the first parallel step is used, that step also runs as one
 * batch of 2 and the two results are compared bit for bit; if they differ (an operator that sums in another order
 * for batch 1 than for batch 2), the branch thread is closed and every later step runs batched, with a warning.
 * A UNet whose batch is fixed at 1 has no batch-2 form to match: its parallel calls are the sequential ones.
 */
export class GuidedUnet {
  private checked: boolean;

  /**
   * `unet` runs on `threads[0]` intra-op threads; `branch`, if any, on `threads[1]`.
   */
  constructor(
    private readonly unet: OpenedSession,
    private readonly shapes: UnetShapes & { unetBatches: boolean },
    private branch: UnetBranch | null,
    private readonly threadSplit: number[],
    private readonly warnings: string[],
  ) {
    this.checked = !shapes.unetBatches;
  }

  /** Intra-op threads of the UNet sessions in use: [caller's] or [caller's, branch thread's]. */
  get threads(): number[] {
    return this.branch ? [...this.threadSplit] : this.threadSplit.slice(0, 1);
  }

  get mode(): GuidanceMode {
    if (this.branch) return 'parallel';
    return this.shapes.unetBatches ? 'batch' : 'sequential';
  }

  async run(sample: Float32Array, t: number, uncond: Float32Array, cond: Float32Array): Promise<GuidedOutput> {
    if (!this.branch) {
      return this.shapes.unetBatches
        ? this.batched(sample, t, uncond, cond)
        : { uncond: await this.one(sample, t, uncond), cond: await this.one(sample, t, cond), calls: 2 };
    }
    let parallel: GuidedOutput;
    try {
      parallel = await this.parallel(this.branch, sample, t, uncond, cond);
    } catch (err) {
      if (!(err instanceof UnetBranchError)) throw err;
      this.warnings.push(`${err.message}; guidance runs without parallel branches from here on`);
      await this.close();
      return this.run(sample, t, uncond, cond);
    }
    if (this.checked) return parallel;
    const batched = await this.batched(sample, t, uncond, cond);
    this.checked = true;
    if (!sameBits(parallel.uncond, batched.uncond) || !sameBits(parallel.cond, batched.cond)) {
      this.warnings.push(
        `${this.unet.path}: batch-1 and batch-2 outputs differ, so guidance runs as one batch of 2 (no parallel branches)`,
      );
      await this.close();
    }
    return { ...batched, calls: parallel.calls + batched.calls };
  }

  async close(): Promise<void> {
    const branch = this.branch;
    this.branch = null;
    await branch?.close();
  }

  private one(sample: Float32Array, t: number, states: Float32Array): Promise<Float32Array> {
    return runUnet(this.unet.session, this.shapes, sample, t, states, 1);
  }

  private async batched(sample: Float32Array, t: number, u: Float32Array, c: Float32Array): Promise<GuidedOutput> {
    const n = sample.length;
    const both = await runUnet(this.unet.session, this.shapes, concat(sample, sample), t, concat(u, c), 2);
    return { uncond: both.subarray(0, n), cond: both.subarray(n), calls: 1 };
  }

  private async parallel(
    branch: UnetBranch,
    sample: Float32Array,
    t: number,
    u: Float32Array,
    c: Float32Array,
  ): Promise<GuidedOutput> {
    // the helper's call is posted first so it runs while this thread is inside its own session.run
    const helper = branch.run(this.shapes, sample, t, u, 1);
    const cond = await this.one(sample, t, c).catch(async (err) => {
      await helper.catch(() => undefined);
      throw err;
    });
    return { uncond: await helper, cond, calls: 2 };
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
