import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const PACKAGE_NAME = 'babel-diffusion';

/**
 * The repository root, found without import.meta.url (Next.js bundles our TypeScript, so module URLs point into
 * .next/): `LOB_ROOT` if set, else the nearest directory at or above process.cwd() whose package.json is ours.
 */
export function projectRoot(): string {
  const fromEnv = process.env.LOB_ROOT;
  if (fromEnv) return resolve(fromEnv);
  let dir = process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${process.cwd()}; set LOB_ROOT`);
    dir = parent;
  }
}

/** The default model: `LOB_MODEL` if set, else models/emoji under the project root. */
export function defaultModelDir(): string {
  return process.env.LOB_MODEL ? resolve(process.env.LOB_MODEL) : join(projectRoot(), 'models', 'emoji');
}
