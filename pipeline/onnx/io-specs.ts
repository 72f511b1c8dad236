import type * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.ts';

/** One graph input or output as the session reports it. */
export interface IoSpec {
  name: string;
  type: string;
  /** Dimensions; strings are symbolic (dynamic), numbers fixed. */
  shape: (number | string)[];
}

export function ioSpecs(session: ort.InferenceSession, which: 'input' | 'output'): IoSpec[] {
  const meta = which === 'input' ? session.inputMetadata : session.outputMetadata;
  return meta.map((m) => {
    if (!m.isTensor) return { name: m.name, type: 'non-tensor', shape: [] };
    return { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) };
  });
}

/** The input or output `name`, checked for dtype and rank; otherwise a ModelLoadError naming the file at `path`. */
export function requireIo(path: string, specs: IoSpec[], name: string, types: string[], rank?: number): IoSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec)
    throw new ModelLoadError(path, `has no "${name}" (found: ${specs.map((s) => s.name).join(', ') || 'none'})`);
  if (!types.includes(spec.type))
    throw new ModelLoadError(path, `"${name}" is ${spec.type}, expected ${types.join(' or ')}`);
  if (rank !== undefined && spec.shape.length !== rank) {
    throw new ModelLoadError(path, `"${name}" has rank ${spec.shape.length}, expected ${rank}`);
  }
  return spec;
}
