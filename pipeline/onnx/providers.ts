/** Execution providers a render can ask for (kept free of onnxruntime imports so the CLI can parse options cheaply). */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export function parseExecutionProvider(value: string | undefined): ExecutionProvider | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'cpu' || value === 'cuda' || value === 'webgpu') return value;
  throw new RangeError(`unknown execution provider "${value}" (use cpu, cuda or webgpu)`);
}
