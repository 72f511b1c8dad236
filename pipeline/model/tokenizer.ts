import { basename, dirname } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from '../errors.ts';

// transformers.js keeps its file settings in one global object; loads are serialised so two models loading at once
// cannot see each other's localModelPath.
let chain: Promise<unknown> = Promise.resolve();

/** Loads `<dir>/tokenizer.json` + `tokenizer_config.json` from local files only (remote loading off). */
export function loadTokenizer(dir: string): Promise<PreTrainedTokenizer> {
  const run = chain.then(async () => {
    // imported on first use (a 1.3 MB bundle): loadModel starts this while onnxruntime builds its sessions
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${dirname(dir)}/`;
    try {
      return await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
    } catch (err) {
      throw new ModelLoadError(`${dir}/tokenizer.json`, `tokenizer cannot be loaded: ${(err as Error).message}`);
    }
  });
  chain = run.catch(() => undefined);
  return run;
}

/** Token ids padded/truncated to exactly `length`, as the text encoder's input dtype wants them. */
export function tokenize(
  tokenizer: PreTrainedTokenizer,
  prompts: string[],
  length: number,
  dtype: 'int32' | 'int64',
): BigInt64Array | Int32Array {
  const enc = tokenizer(prompts, { padding: 'max_length', max_length: length, truncation: true }) as {
    input_ids: { data: BigInt64Array; dims: number[] };
  };
  const ids = enc.input_ids.data;
  if (ids.length !== prompts.length * length) {
    throw new RangeError(`tokenizer produced ${ids.length} ids for ${prompts.length}×${length}`);
  }
  return dtype === 'int64' ? BigInt64Array.from(ids) : Int32Array.from(ids, (v) => Number(v));
}
