import { cpSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorResponse } from '../../lib/http.ts';
import { Library, optionsFromEnv } from '../../lib/library.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';

// A model folder whose UNet file is cut short: onnxruntime fails to parse it while the other sessions of the same
// worker are still being created.
const dir = mkdtempSync(join(tmpdir(), 'lob-corrupt-model-'));
const modelDir = join(dir, 'model');
cpSync(TINY_EMOJI, modelDir, { recursive: true });
truncateSync(join(modelDir, 'unet', 'model.onnx'), 1000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a corrupt model file', () => {
  it('fails Renderer.create with ModelLoadError every time, and the process lives on', async () => {
    // Before the fix the second or third round aborted the whole process (a Napi::Error thrown into a worker
    // that was being terminated while its other sessions were still loading).
    for (let round = 0; round < 5; round++) {
      const err = await Renderer.create({ modelDir, workers: 2, threadsPerWorker: 1 }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('ModelLoadError');
      expect((err as Error).message).toContain('unet');
    }
  });

  it('answers every request with a 503 that names the file relative to the model, and retries the load', async () => {
    const library = new Library({
      ...optionsFromEnv({} as NodeJS.ProcessEnv),
      modelDir,
      workers: 2,
      cacheDir: join(dir, 'cache'),
    });
    const key = await library.random();
    for (let request = 0; request < 4; request++) {
      const response = errorResponse(await library.render(key).catch((e: unknown) => e));
      expect(response.status).toBe(503);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('model_not_loaded');
      expect(error.message).toMatch(/^the model's unet\/model\.onnx: /);
      expect(error.message).not.toContain(dir);
    }
  });
});
