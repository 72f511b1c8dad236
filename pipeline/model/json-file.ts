import { readFileSync, statSync } from 'node:fs';
import { ModelLoadError } from '../errors.ts';

/**
 * Reads a model folder's JSON file that must hold one object. Errors name the file and say what is wrong with it;
 * `maxBytes`, when given, is checked from the file's size before it is read.
 */
export function readJsonObject(path: string, maxBytes?: number): Record<string, unknown> {
  if (maxBytes !== undefined && statSync(path).size > maxBytes)
    throw new ModelLoadError(path, `larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ModelLoadError(path, 'not a JSON object');
  return value as Record<string, unknown>;
}
