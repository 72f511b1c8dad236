import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ProfileRegistry } from '../../keyspace/index.ts';
import { CliError } from './errors.ts';

const EXIT_BAD_INPUT = 2;
// Room for whitespace around the key (a trailing newline, a CRLF, an editor's indentation).
const WHITESPACE_ALLOWANCE = 4096;

/** The longest key text any profile of `registry` allows (prefix included); the built-in sd-lob's is 189,436. */
export function longestKey(registry: ProfileRegistry): number {
  return Math.max(...registry.profiles.map((p) => p.prefix.length + p.chars));
}

/**
 * Resolves a KEY argument: `-` reads stdin, `@FILE` reads a file, anything else is the key itself.
 * Surrounding whitespace (a trailing newline from `echo` or an editor) is trimmed; nothing else is touched.
 * Neither source is read past `maxChars` (plus whitespace): a file is judged by its size before it is opened, stdin
 * is counted as it arrives, so 4 GB of zeros is refused after the first few hundred kilobytes.
 */
export async function readKeyArg(
  arg: string,
  maxChars: number,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  const limit = maxChars + WHITESPACE_ALLOWANCE;
  if (arg === '-') return (await readBounded(stdin, limit, 'the key on stdin', maxChars)).trim();
  if (arg.startsWith('@')) {
    const path = arg.slice(1);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      throw new CliError(`cannot read key file ${path}: ${(err as Error).message}`);
    }
    if (size > limit) throw tooLong(`key file ${path} (${size} bytes)`, maxChars);
    return (await readBounded(createReadStream(path), limit, `key file ${path}`, maxChars)).trim();
  }
  return arg.trim();
}

function tooLong(what: string, maxChars: number): CliError {
  return new CliError(
    `${what} is longer than the longest key any known profile allows (${maxChars} characters)`,
    EXIT_BAD_INPUT,
  );
}

async function readBounded(
  stream: NodeJS.ReadableStream,
  limit: number,
  what: string,
  maxChars: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += bytes.length;
      if (total > limit) throw tooLong(what, maxChars);
      chunks.push(bytes);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${what}: ${(err as Error).message}`);
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return Buffer.concat(chunks).toString('utf8');
}
