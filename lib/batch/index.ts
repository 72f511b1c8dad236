// Research batches (docs/batch.md): a MANIFEST of prompts / keys / images → images, final latents, gen5 files and
// manifest.jsonl, resumable, on the Renderer's worker pool.
export { rowPaths } from './files.ts';
export { ImageRowError, keyForImage } from './find-image.ts';
export { MANIFEST, type ManifestEntry, readManifest } from './manifest-file.ts';
export { BatchProgress, type BatchTally } from './progress.ts';
export { README_TEXT } from './readme.ts';
export {
  type BatchDefaults,
  type BatchRow,
  ManifestError,
  manifestFormat,
  parseManifest,
  type RowSource,
} from './rows.ts';
export { type BatchOptions, type BatchResult, manifestDir, readBatchRows, runBatch } from './run.ts';
