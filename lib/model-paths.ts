import { relative, resolve } from 'node:path';
import { ModelLoadError } from '../pipeline/errors.ts';

/**
 * A ModelLoadError as the server may show it to clients: file names relative to the model folder ("the model's
 * unet/model.onnx"), never the absolute server path (which onnxruntime's own messages repeat in the problem too).
 * Anything else passes through unchanged.
 */
export function withModelRelativePaths(err: unknown, modelDir: string): unknown {
  if ((err as Error | null)?.name !== 'ModelLoadError') return err;
  const { file, problem } = err as ModelLoadError;
  const root = resolve(modelDir);
  const inside = relative(root, resolve(root, String(file)));
  const name = inside === '' ? 'the model folder' : inside.startsWith('..') ? 'a model file' : `the model's ${inside}`;
  return new ModelLoadError(name, hidePaths(String(problem), root));
}

function hidePaths(text: string, root: string): string {
  return text.replaceAll(`${root}/`, "the model's ").replaceAll(root, 'the model folder');
}
