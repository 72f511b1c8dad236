import type { ProfileJson } from '../profile.ts';

/**
 * The seed project's keys (alexn11/stable-diffusion-image-archive-lob), per ../shared/specs/sd-lob-keys.md:
 * bare standard base64 of one LSB-first bit stream — 6-bit step level (steps 1..64), the 77×768 prompt embedding
 * without its two constant values, then the 1×4×52×80 latent — every value a 15-bit float16 window.
 */
export const SD_LOB_PROFILE: ProfileJson = {
  format: 'lob-keyspace-profile/1',
  id: 'sd-lob',
  version: 1,
  model: 'stabilityai/stable-diffusion-2-1-unclip-small',
  text: 'bare-base64',
  sections: [
    { name: 'steps', kind: 'steps', values: Array.from({ length: 64 }, (_, i) => i + 1) },
    {
      name: 'embedding',
      kind: 'embedding',
      shape: [77, 768],
      coding: { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 4 },
    },
    {
      name: 'latent',
      kind: 'latent',
      shape: [1, 4, 52, 80],
      coding: { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 1 },
    },
  ],
  constants: [
    { section: 'embedding', index: 19, value: -28.078125 },
    { section: 'embedding', index: 681, value: 33.09375 },
  ],
};
