import { sha256Hex } from './digest.ts';
import { Gen5Error } from './errors.ts';
import type { Gen5Limits } from './limits.ts';
import { checkJsonDepth, pyDumps } from './pyjson.ts';

/** One ENVC component: an id and its canonical string `name=ID;key=value;…` (gen5's form). */
export interface EnvComponent {
  id: string;
  canonical: string;
}

/** A component as stored: the digest is kept as written, because drift is judged by digests (as 0.1.0 does). */
export interface StoredEnvComponent extends EnvComponent {
  digest: string;
}

export interface EnvcData {
  envVersion: number;
  components: StoredEnvComponent[];
}

/**
 * Builds `name=ID;k1=v1;k2=v2` like gen5 0.1.0 (`name=python;version=3.12.3`). gen5 has no escaping; we escape
 * `%`, `;` and `=` in values as %25/%3B/%3D so a value can never forge another field.
 */
export function canonicalString(name: string, fields: Record<string, string>): string {
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/;/g, '%3B').replace(/=/g, '%3D');
  return [`name=${esc(name)}`, ...Object.entries(fields).map(([k, v]) => `${esc(k)}=${esc(v)}`)].join(';');
}

/** The ENVC payload exactly as gen5 0.1.0 writes it (json.dumps indent=2, misspelt `cononical_str` included). */
export async function buildEnvcPayload(components: EnvComponent[]): Promise<Uint8Array> {
  const list = [];
  for (const c of components) {
    list.push({
      component_id: c.id,
      cononical_str: c.canonical,
      component_sha256_digest: await sha256Hex(c.canonical),
    });
  }
  return new TextEncoder().encode(pyDumps({ env_version: 1, components: list }));
}

/** Parses an ENVC payload; the JSON is checked for depth and shape, not trusted. */
export function parseEnvcPayload(payload: Uint8Array, limits: Gen5Limits): { text: string; data: EnvcData } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new Gen5Error('ENVC', 'ENVC payload is not valid UTF-8');
  }
  checkJsonDepth(text, limits.maxJsonDepth, 'ENVC JSON');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Gen5Error('ENVC', `ENVC payload is not JSON: ${(err as Error).message}`);
  }
  const obj = json as { env_version?: unknown; components?: unknown };
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new Gen5Error('ENVC', 'ENVC JSON is not an object');
  if (typeof obj.env_version !== 'number') throw new Gen5Error('ENVC', 'ENVC JSON lacks a numeric env_version');
  if (!Array.isArray(obj.components)) throw new Gen5Error('ENVC', 'ENVC JSON lacks a components array');
  if (obj.components.length > limits.maxEnvComponents) {
    throw new Gen5Error(
      'ENVC',
      `ENVC has ${obj.components.length} components, above the limit of ${limits.maxEnvComponents}`,
    );
  }
  const components = obj.components.map((c: unknown, i: number) => {
    const r = c as Record<string, unknown>;
    const id = r?.component_id;
    const canonical = r?.cononical_str;
    const digest = r?.component_sha256_digest;
    if (typeof id !== 'string' || typeof canonical !== 'string' || typeof digest !== 'string') {
      throw new Gen5Error(
        'ENVC',
        `ENVC component ${i} needs string component_id, cononical_str and component_sha256_digest`,
      );
    }
    return { id, canonical, digest };
  });
  return { text, data: { envVersion: obj.env_version, components } };
}

// The current environment is the same few components on every decode of a process: their digests (of our own
// canonical strings, not of anything read from a file) are computed once.
const currentDigests = new Map<string, string>();

async function digestOf(c: EnvComponent): Promise<string> {
  const digest = await sha256Hex(c.canonical);
  if (currentDigests.size >= 1024) currentDigests.clear();
  currentDigests.set(c.canonical, digest);
  return digest;
}

export type DriftKind = 'differs' | 'missing-in-current' | 'missing-in-file';

/** A difference between the file's environment and the current one, with gen5 0.1.0's warning text. */
export interface DriftWarning {
  componentId: string;
  kind: DriftKind;
  file?: string;
  current?: string;
  message: string;
}

/**
 * gen5 0.1.0's comparison, returned as data: per component id on either side, differing digests, or a side that
 * lacks it. Like 0.1.0, a repeated id (several GPUs) keeps its last component. 0.1.0 walks a Python set, so its
 * order is arbitrary; ours is the file's order, then ids only the current side has.
 */
export async function driftWarnings(file: StoredEnvComponent[], current: EnvComponent[]): Promise<DriftWarning[]> {
  const stored = new Map(file.map((c) => [c.id, c]));
  const now = new Map<string, StoredEnvComponent>();
  for (const c of current) now.set(c.id, { ...c, digest: currentDigests.get(c.canonical) ?? (await digestOf(c)) });
  const out: DriftWarning[] = [];
  for (const id of new Set([...stored.keys(), ...now.keys()])) {
    const s = stored.get(id);
    const c = now.get(id);
    if (s && c) {
      if (s.digest !== c.digest) {
        out.push({
          componentId: id,
          kind: 'differs',
          file: s.canonical,
          current: c.canonical,
          message: `Environment component '${id}' differs:\n  File: ${s.canonical}\n  Current: ${c.canonical}`,
        });
      }
    } else if (s) {
      out.push({
        componentId: id,
        kind: 'missing-in-current',
        file: s.canonical,
        message: `Environment component '${id}' missing in current system`,
      });
    } else if (c) {
      out.push({
        componentId: id,
        kind: 'missing-in-file',
        current: c.canonical,
        message: `Environment component '${id}' missing in file`,
      });
    }
  }
  return out;
}
