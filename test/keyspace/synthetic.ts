import { normalQuantile, type ProfileJson } from '../../keyspace/index.ts';

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * An emoji-shaped profile for tests (the real one is written by the model export): steps [8, 12, 16, 24], a [16, 64]
 * embedding with an empirical per-coordinate table (shifted, scaled and skewed normals), a [1, 4, 16, 16]
 * standard-normal latent. Coordinate 5 is the same in every prompt, so its table is flat and it is a constant instead
 * (a flat table would make codes that decode alike). 2 + 1023×4 + 1024×4 = 8190 bits = 1365 characters.
 * test/fixtures/keyspace/synth.json is this function's output.
 */
export function syntheticProfileJson(): ProfileJson {
  const probabilities = Array.from({ length: 16 }, (_, i) => (i + 0.5) / 16);
  const quantiles = Array.from({ length: 16 * 64 }, (_, i) => {
    if (i === 5) return probabilities.map(() => 0.25);
    const mean = 0.5 * Math.sin(i * 0.37);
    const std = 0.2 + (0.8 * ((i * 7919) % 13)) / 13;
    return probabilities.map((p) => {
      const z = normalQuantile(p);
      return round4(mean + std * (z + 0.15 * z * z));
    });
  });
  return {
    format: 'lob-keyspace-profile/1',
    id: 'synth',
    version: 1,
    model: 'synthetic-test-profile',
    sections: [
      { name: 'steps', kind: 'steps', values: [8, 12, 16, 24] },
      {
        name: 'embedding',
        kind: 'embedding',
        shape: [16, 64],
        coding: { type: 'quantile', bits: 4, distribution: { type: 'empirical', probabilities, quantiles } },
      },
      {
        name: 'latent',
        kind: 'latent',
        shape: [1, 4, 16, 16],
        coding: { type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } },
      },
    ],
    constants: [{ section: 'embedding', index: 5, value: 0.25 }],
  };
}
