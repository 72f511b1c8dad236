import { join } from 'node:path';
import { ModelLoadError } from '../errors.ts';
import type { ModelFolder } from './folder.ts';
import type { ModelShapes } from './types.ts';

/** Profile JSON as docs/contracts.md defines it (validated by keyspace's loadProfile). */
export type ProfileJsonLike = Record<string, unknown> & { id: string; version: number };

/**
 * The derived coding for Stable Diffusion exports that ship no keyspace.json:
 * - steps: 64 values 1..64 (6 bits), the seed project's range;
 * - embedding [T, D]: the seed's 15-bit minifloat (sign, 4 exponent bits with bias 4, 10 mantissa bits), i.e. every
 *   float16 of magnitude 2⁻¹¹…<2⁵ — CLIP text states live there, so a prompt survives encoding to float16 precision;
 * - latent [1, C, H, W]: 4-bit standard-normal quantiles, so random keys draw Gaussian noise (the seed's minifloat
 *   latents were log-uniform and rendered grey fog).
 * The id names the shapes (`sd<D>-<H>x<W>`) so keys of differently shaped models cannot be confused.
 */
export function deriveSdProfile(folder: ModelFolder, shapes: ModelShapes): ProfileJsonLike {
  const [c, h, w] = shapes.latent;
  return {
    format: 'lob-keyspace-profile/1',
    id: `sd${shapes.hidden}-${h}x${w}`,
    version: 1,
    model: folder.lob?.name ?? 'stable-diffusion',
    sections: [
      { name: 'steps', kind: 'steps', values: Array.from({ length: 64 }, (_, i) => i + 1) },
      {
        name: 'embedding',
        kind: 'embedding',
        shape: [shapes.tokens, shapes.hidden],
        coding: { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 4 },
      },
      {
        name: 'latent',
        kind: 'latent',
        shape: [1, c, h, w],
        coding: { type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } },
      },
    ],
  };
}

/** The folder's keyspace.json, or the derived SD profile; checks the shapes agree with the sessions. */
export function modelProfileJson(folder: ModelFolder, shapes: ModelShapes): ProfileJsonLike {
  if (!folder.keyspaceProfile) return deriveSdProfile(folder, shapes);
  const json = folder.keyspaceProfile as ProfileJsonLike;
  const file = join(folder.dir, 'keyspace.json');
  const sections = Array.isArray(json.sections) ? (json.sections as { kind?: string; shape?: number[] }[]) : [];
  const emb = sections.find((s) => s.kind === 'embedding')?.shape;
  const lat = sections.find((s) => s.kind === 'latent')?.shape;
  const wantEmb = [shapes.tokens, shapes.hidden];
  const wantLat = [1, ...shapes.latent];
  if (!emb || emb.join() !== wantEmb.join())
    throw new ModelLoadError(
      file,
      `embedding shape ${JSON.stringify(emb)} ≠ the text encoder's ${JSON.stringify(wantEmb)}`,
    );
  if (!lat || lat.join() !== wantLat.join())
    throw new ModelLoadError(file, `latent shape ${JSON.stringify(lat)} ≠ the UNet's ${JSON.stringify(wantLat)}`);
  return json;
}
