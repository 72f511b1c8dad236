// Public API of the keyspace: pure TypeScript, no I/O, runs in Node and in the browser.
export { BASE64, BASE64URL } from './alphabet.ts';
export { decodeKey, encodeKey } from './codec.ts';
export type { ValueCoding } from './coding.ts';
export { KeyError, type KeyErrorCode, ProfileError } from './errors.ts';
export { float16ToNumber, isFloat16Exact, numberToFloat16, toFloat16Array } from './float16.ts';
export { guidanceScaleProblem, guidedKey } from './guidance.ts';
export { STRIDES, type Stride } from './layout.ts';
export { Minifloat, type MinifloatSpec } from './minifloat.ts';
export { normalQuantile } from './normal.ts';
export { availableStrides, distance, nextKey, offsetKey, prevKey } from './order.ts';
export { type ParsedKey, parseKey } from './parse.ts';
export {
  type ArrayKind,
  type ArraySection,
  arraySections,
  type CodingSpec,
  type DiscreteSection,
  type GuidanceSection,
  KEY_ORDERS,
  type KeyOrder,
  loadProfile,
  PROFILE_FORMAT,
  type Profile,
  type ProfileJson,
  type SectionJson,
  type StepsSection,
} from './profile.ts';
export { SD_LOB_PROFILE } from './profiles/sd-lob.ts';
export { QuantileCoding, type QuantileSpec } from './quantile.ts';
export { randomKey } from './random.ts';
export { createProfileRegistry, type ProfileRegistry, sdLobProfile } from './registry.ts';
export { type DecodedKey, type KeyInput, type KeyValues, quantiseSection } from './values.ts';
export {
  FINE_LATENT_BITS,
  FINE_SUFFIX,
  fineVariant,
  fineVariantJson,
  GUIDANCE_SCALES,
  GUIDANCE_SUFFIX,
  guidanceVariant,
  guidanceVariantJson,
  NEGATIVE_SUFFIX,
  negativeVariant,
  negativeVariantJson,
  type ProfileVariants,
  profileVariants,
  withVariants,
} from './variant.ts';
export { MAX_WALK_FRAMES, walkKeys } from './walk.ts';
