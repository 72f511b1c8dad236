// Picture → key (docs/find.md): decode a picture as the training data was prepared, then search for the key whose
// rendering is most like it.
export { DEFAULT_FIND_BUDGET_MS, DEFAULT_FIND_CANDIDATES, type FindOptions, type FindResult, findKey } from './find.ts';
export { invertDdim } from './invert.ts';
export { loadPicture, PICTURE_LIMITS, PictureError, type PictureProblem } from './picture.ts';
export { rekeyPrompt } from './rekey.ts';
export type { Candidate } from './search-plan.ts';
export { psnr, ssim } from './similarity.ts';
