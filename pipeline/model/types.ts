// The loaded model's types, apart from the loader so the parts that take a model (text and image encoders, VAE
// decoder, profile, the render pipeline) depend on these types alone. Type imports only: nothing runs here.
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { Profile } from '../../keyspace/profile.ts';
import type { ProfileRegistry } from '../../keyspace/registry.ts';
import type { OpenedSession, SessionSettings } from '../onnx/sessions.ts';
import type { UnetShapes } from '../unet/call.ts';
import type { GuidedUnet } from '../unet/guided.ts';
import type { ModelFolder } from './folder.ts';

/** Shapes the pipeline feeds, read from the sessions (exports differ) and the folder's configs. */
export interface ModelShapes extends UnetShapes {
  textIdsType: 'int32' | 'int64';
  /** False when the UNet's batch dimension is fixed at 1: guidance then runs two UNet calls. */
  unetBatches: boolean;
  textEmbedsOutput: 'text_embeds' | 'pooler_output' | null;
  imageSize: [number, number] | null;
}

export interface Model {
  dir: string;
  name: string;
  version: string;
  folder: ModelFolder;
  settings: SessionSettings;
  warnings: string[];
  shapes: ModelShapes;
  tokenizer: PreTrainedTokenizer;
  text: OpenedSession;
  unet: OpenedSession;
  /** Runs guided steps (batched, or the two branches in parallel). */
  guided: GuidedUnet;
  vaeDecoder: OpenedSession;
  /** The image encoder, opened on first use (renders never need it; only best-of ranking does); null if absent. */
  imageEncoder(): Promise<OpenedSession | null>;
  /** The VAE encoder, opened on first use (only finding a picture's key needs it); null if absent. */
  vaeEncoder(): Promise<OpenedSession | null>;
  defaultSteps: number;
  guidanceScale: number;
  schedulerName: string;
  /** Empty-prompt text states [T×D], computed once at load: the unconditional branch of guidance. */
  uncond: Float32Array;
  /** The model's keyspace profile (keyspace.json, or derived for SD exports) and a registry holding it. */
  profile: Profile;
  /** Its negative-prompt variant (keys that also carry the unconditional branch's states); null for bare profiles. */
  negativeProfile: Profile | null;
  /** Its fine-latent variant (the keys `find` gives: 8-bit latents); null when the profile has none. */
  fineProfile: Profile | null;
  /** Its guidance variant (keys that carry their guidance scale) and its negative variant's; null for bare ones. */
  guidanceProfile: Profile | null;
  negativeGuidanceProfile: Profile | null;
  registry: ProfileRegistry;
  release(): Promise<void>;
}
