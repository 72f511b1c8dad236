// NumPy .npy (format 1.0 to write; 1.0–3.0 to read): little-endian float16/32/64, C order. Enough for key values.
import { float16ToNumber } from '../keyspace/float16.ts';

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtype = '<f2' | '<f4' | '<f8';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The values as float32 (float64 files are rounded to float32, which is what the key codings take). */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { '<f2': 2, '<f4': 4, '<f8': 8 };

function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** A .npy file of float16 bit patterns (`<f2`) or float32 values (`<f4`). */
export function encodeNpy(data: Uint16Array | Float32Array, shape: readonly number[]): Uint8Array {
  const dtype: NpyDtype = data instanceof Uint16Array ? '<f2' : '<f4';
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`shape ${shapeText(shape)} holds ${count} values, got ${data.length}`);
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  // NumPy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  const body = new DataView(bytes.buffer, 10 + header.length);
  if (data instanceof Uint16Array) for (let i = 0; i < data.length; i++) body.setUint16(2 * i, data[i], true);
  else for (let i = 0; i < data.length; i++) body.setFloat32(4 * i, data[i], true);
  return bytes;
}

/** Parses a .npy file; anything but a C-order little-endian float array is an `NpyError` that says what it is. */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError('not a .npy file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new NpyError('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeMatch === undefined)
    throw new NpyError(`malformed .npy header ${header.trim()}`);
  if (!(descr in ITEM_SIZE))
    throw new NpyError(`dtype ${descr} is not supported (use little-endian float16, float32 or float64)`);
  if (fortran === 'True') throw new NpyError('Fortran-order arrays are not supported (save with C order)');
  const shape = shapeMatch
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`malformed shape (${shapeMatch})`);
  const dtype = descr as NpyDtype;
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const size = ITEM_SIZE[dtype];
  if (bytes.length - dataStart !== count * size) {
    throw new NpyError(
      `shape ${shapeText(shape)} of ${dtype} needs ${count * size} data bytes, file has ${bytes.length - dataStart}`,
    );
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = dataStart + i * size;
    data[i] =
      dtype === '<f2'
        ? float16ToNumber(view.getUint16(at, true))
        : dtype === '<f4'
          ? view.getFloat32(at, true)
          : view.getFloat64(at, true);
  }
  return { dtype, shape, data };
}
