/** A model folder is missing, incomplete or corrupt; `file` names the culprit (HTTP 503, CLI exit 3). */
export class ModelLoadError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelLoadError';
  }
}

/** The render queue is at its explicit bound: the caller should retry later (HTTP 429). */
export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`renderer busy: ${maxQueue} renders already queued`);
    this.name = 'QueueFullError';
  }
}

/** A render was cancelled through its AbortSignal (before it started or between two denoising steps). */
export class RenderCancelledError extends Error {
  constructor() {
    super('render cancelled');
    this.name = 'AbortError';
  }
}

/** The key or request does not fit the loaded model (wrong profile, shapes, unsupported option). */
export class RenderInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderInputError';
  }
}
