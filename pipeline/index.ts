// Public API of the generation pipeline (docs/pipeline.md). Node only: onnxruntime-node, sharp, worker threads.
export { ModelLoadError, QueueFullError, RenderCancelledError, RenderInputError } from './errors.ts';
export {
  DEFAULT_FIND_BUDGET_MS,
  type FindOptions,
  type FindResult,
  findKey,
  loadPicture,
  PICTURE_LIMITS,
  PictureError,
  psnr,
  rekeyPrompt,
  ssim,
} from './find/index.ts';
export type { GuidanceMode } from './guided-unet.ts';
export { decodeModelKey, encodeModelKey } from './keys.ts';
export { encodeText, type LoadModelOptions, loadModel, type Model } from './model.ts';
export { KEY_CHUNK, MAX_EMBEDDED_KEY_CHARS, type PngKey, readPngKey } from './png.ts';
export { defaultModelDir, projectRoot } from './project-root.ts';
export { type RenderOptions, type RenderResult, renderKey } from './render.ts';
export { Renderer, type RendererOptions } from './renderer.ts';
export { type SearchOptions, type SearchResult, searchKey } from './search.ts';
export type { ExecutionProvider, SessionSettings } from './sessions.ts';
