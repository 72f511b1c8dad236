/** The part of Node's Buffer used here, typed locally so gen5/ has no static Node-only import. */
interface NodeBufferCtor {
  allocUnsafeSlow(size: number): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferCtor }).Buffer;

/**
 * A fresh, unshared Uint8Array of `size` bytes at offset 0 of its own ArrayBuffer, for output the caller fills
 * completely before anyone sees it. In Node the memory is not zeroed first (Buffer.allocUnsafeSlow: malloc instead
 * of calloc): for the image of a decode, zeroing and faulting in fresh pages cost more than copying the bytes.
 * Returned as a plain Uint8Array view, not a Buffer.
 */
export function allocBytes(size: number): Uint8Array {
  if (NodeBuffer && size > 0) return new Uint8Array(NodeBuffer.allocUnsafeSlow(size).buffer, 0, size);
  return new Uint8Array(size);
}
