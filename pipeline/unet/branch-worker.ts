import { parentPort, workerData } from 'node:worker_threads';
import { openSession, type SessionSettings } from '../onnx/sessions.ts';
import type { BranchReply, BranchRequest } from './branch.ts';
import { runUnet } from './call.ts';

// The helper thread of a UnetBranch: its own UNet session, one call at a time.
const port = parentPort;
if (!port) throw new Error('pipeline/unet/branch-worker.ts must run in a worker thread');
const init = workerData as { path: string; settings: SessionSettings };

const post = (msg: BranchReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

try {
  const { session } = await openSession(init.path, init.settings, []);
  port.on('message', async (msg: BranchRequest) => {
    try {
      const out = await runUnet(session, msg.shapes, msg.sample, msg.t, msg.states, msg.batch);
      const copy = Float32Array.from(out); // its own ArrayBuffer: transferring it moves exactly these bytes
      post({ type: 'done', id: msg.id, out: copy }, [copy.buffer]);
    } catch (err) {
      post({ type: 'failed', id: msg.id, message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'load-error', message: (err as Error).message });
}
