import type { Worker } from 'node:worker_threads';
import type { SessionSettings } from '../onnx/sessions.ts';
import { startTsWorkerAndWait } from '../threads/start-ts-worker.ts';
import type { UnetShapes } from './call.ts';

/** The branch thread failed (it could not start, died, or its session.run threw). */
export class UnetBranchError extends Error {
  override name = 'UnetBranchError';
}

export interface BranchRequest {
  id: number;
  shapes: UnetShapes;
  sample: Float32Array;
  t: number;
  states: Float32Array;
  batch: number;
}

export type BranchReply =
  | { type: 'ready' }
  | { type: 'load-error'; message: string }
  | { type: 'done'; id: number; out: Float32Array }
  | { type: 'failed'; id: number; message: string };

/**
 * A second UNet session on its own thread (pipeline/unet/branch-worker.ts), so one branch of a guided step runs
 * while the caller's session runs the other: onnxruntime's session.run holds the thread that calls it.
 */
export class UnetBranch {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (out: Float32Array) => void; reject: (e: Error) => void }>();
  private failure: UnetBranchError | null = null;

  private constructor(private readonly worker: Worker) {
    // an idle helper must not keep the process alive (a script that never calls model.release() still exits);
    // while a call is out it must, or the process could exit with the step half done
    worker.unref();
    worker.on('message', (msg: BranchReply) => {
      if (msg.type !== 'done' && msg.type !== 'failed') return;
      const job = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref();
      if (msg.type === 'done') job?.resolve(msg.out);
      else job?.reject(new UnetBranchError(`UNet branch thread: ${msg.message}`));
    });
    worker.on('error', (err) => this.fail(new UnetBranchError(`UNet branch thread: ${err.message}`)));
    worker.on('exit', (code) => this.fail(new UnetBranchError(`UNet branch thread exited with code ${code}`)));
  }

  private fail(err: UnetBranchError): void {
    this.failure ??= err;
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }

  /** Starts the thread and opens the UNet at `path` there with `settings` (early: it loads while the caller does). */
  static async open(path: string, settings: SessionSettings): Promise<UnetBranch> {
    const started = await startTsWorkerAndWait<object, BranchReply>(
      'unet/branch-worker.ts',
      { path, settings },
      'UNet branch thread',
    ).catch((err: Error) => {
      throw new UnetBranchError(err.message);
    });
    const { worker, first } = started;
    if (first.type === 'ready') return new UnetBranch(worker);
    void worker.terminate();
    throw new UnetBranchError(
      `UNet branch thread: ${first.type === 'load-error' ? first.message : `sent ${first.type}`}`,
    );
  }

  /** One UNet call on the helper thread (same arguments as runUnet). */
  run(shapes: UnetShapes, sample: Float32Array, t: number, states: Float32Array, batch: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, shapes, sample, t, states, batch } satisfies BranchRequest);
    });
  }

  async close(): Promise<void> {
    this.fail(new UnetBranchError('UNet branch thread closed'));
    await this.worker.terminate();
  }
}
