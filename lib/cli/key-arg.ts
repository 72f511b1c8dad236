import { readFile } from 'node:fs/promises';
import { CliError } from './errors.ts';

/**
 * Resolves a KEY argument: `-` reads stdin, `@FILE` reads a file, anything else is the key itself.
 * Surrounding whitespace (a trailing newline from `echo` or an editor) is trimmed; nothing else is touched.
 */
export async function readKeyArg(arg: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (arg === '-') return (await readStream(stdin)).trim();
  if (arg.startsWith('@')) {
    const path = arg.slice(1);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      throw new CliError(`cannot read key file ${path}: ${(err as Error).message}`);
    }
  }
  return arg.trim();
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
