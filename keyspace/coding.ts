/**
 * A value coding maps a b-bit integer code to a float32 value and a float32 value back to the code whose value is
 * nearest. `coord` is the value's flat index in its section; only per-coordinate codings (empirical quantiles) use it.
 * Encoders throw `RangeError` for what they cannot represent; the key codec turns that into a `KeyError`.
 */
export interface ValueCoding {
  readonly bits: number;
  /** Every decoded value is exactly a float16 (so .npy exports can use float16 without loss). */
  readonly float16Exact: boolean;
  decode(code: number, coord: number): number;
  encode(value: number, coord: number): number;
}
