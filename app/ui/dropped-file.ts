/**
 * Where a file dropped on the page goes. A `.gen5` file or one of our PNGs names its key: it is brought back
 * (import, verified bit for bit). Any other picture has no key to read: the library looks for it (find). The two
 * choosers on the page never guess; only a drop, which has one target, is sorted here.
 */
export type DropTarget = 'import' | 'find';

const GEN5_MAGIC = [0x47, 0x45, 0x4e, 0x35]; // "GEN5"
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The text chunk our PNGs carry their key in (pipeline/png.ts KEY_CHUNK; that module is server-only). */
const KEY_CHUNK = 'lob-key';
const TEXT_CHUNKS = new Set(['tEXt', 'iTXt', 'zTXt']);

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** Whether a PNG has a text chunk whose keyword is `lob-key` (only chunk headers and keywords are read). */
export function pngCarriesKey(bytes: Uint8Array): boolean {
  if (!startsWith(bytes, PNG_SIGNATURE)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyword = new TextEncoder().encode(`${KEY_CHUNK}\0`);
  for (let at = PNG_SIGNATURE.length; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IEND') return false;
    if (TEXT_CHUNKS.has(type) && startsWith(bytes.subarray(at + 8, at + 8 + length), [...keyword])) return true;
    at += 12 + length;
  }
  return false;
}

/**
 * A `.gen5` (by its magic, or by its name so that a damaged one still gets import's error) or a PNG with our key →
 * import; anything else → find, whose server says plainly when it is no picture at all.
 */
export function dropTarget(bytes: Uint8Array, name: string): DropTarget {
  if (startsWith(bytes, GEN5_MAGIC) || /\.gen5$/i.test(name)) return 'import';
  return pngCarriesKey(bytes) ? 'import' : 'find';
}
