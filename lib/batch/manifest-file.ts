import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeWhole } from './files.ts';

/** One line of DIR/manifest.jsonl. */
export interface ManifestEntry {
  row: number;
  line: number;
  name: string;
  status: 'ok' | 'failed';
  /** Why the row failed; `error_kind` says whether the row's input was bad or the run failed. */
  error?: string;
  error_kind?: 'input' | 'runtime';
  key?: string;
  /** The guidance scale the image was rendered at: the key's when it carries one, else the model's. */
  guidance?: number;
  /** The search seed of a prompt row, as a decimal string (64-bit seeds do not fit a JSON number). */
  seed?: string;
  prompt?: string;
  negative_prompt?: string;
  /** An image row: how like the picture its key's image is (PSNR in dB, SSIM), as `lob find` reports. */
  found?: { psnr: number; ssim: number };
  image?: string;
  hidden?: string;
  hidden_shape?: number[];
  gen5?: string;
  sha256?: Record<string, string>;
  /** Wall time of the row's work (search, render, files) in seconds: the one field two runs do not share. */
  seconds?: number;
  /** SHA-256 of what decides the row's outputs (its source, the batch flags, the model files): resume checks it. */
  recipe: string;
  input: Record<string, unknown>;
}

export const MANIFEST = 'manifest.jsonl';

/** The entries of an earlier run by row name; a missing or unreadable manifest is an empty one. */
export async function readManifest(dir: string): Promise<Map<string, ManifestEntry>> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    return new Map();
  }
  const entries = new Map<string, ManifestEntry>();
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as ManifestEntry;
      if (typeof e?.name === 'string' && typeof e.recipe === 'string') entries.set(e.name, e);
    } catch {
      // a line cut short by a crash is simply not resumable; its row runs again
    }
  }
  return entries;
}

/** Writes the manifest whole (rows in batch order), so a reader never sees half of it. */
export async function writeManifest(dir: string, entries: Iterable<ManifestEntry>): Promise<void> {
  let text = '';
  for (const e of entries) text += `${JSON.stringify(e)}\n`;
  await writeWhole(dir, MANIFEST, text);
}
