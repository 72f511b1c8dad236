// Public API of the generation pipeline (docs/pipeline.md). Node only: onnxruntime-node, sharp, worker threads.
export { ModelLoadError, QueueFullError, RenderCancelledError, RenderInputError } from './errors.ts';
export {
  DEFAULT_FIND_BUDGET_MS,
  DEFAULT_FIND_CANDIDATES,
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
export { type LoadModelOptions, loadModel } from './model/load.ts';
export { encodeText } from './model/text-encoder.ts';
export type { Model } from './model/types.ts';
export type { ExecutionProvider } from './onnx/providers.ts';
export type { SessionSettings } from './onnx/sessions.ts';
export { KEY_CHUNK, MAX_EMBEDDED_KEY_CHARS, type PngKey, readPngKey } from './png/render-png.ts';
export { defaultModelDir, projectRoot } from './project-root.ts';
export { decodeModelKey, encodeModelKey } from './render/keys.ts';
export { type RenderOptions, type RenderResult, renderKey } from './render/render.ts';
export { type SearchOptions, type SearchResult, searchKey } from './render/search.ts';
export { Renderer, type RendererOptions } from './renderer/renderer.ts';
export type { GuidanceMode } from './unet/guided.ts';
