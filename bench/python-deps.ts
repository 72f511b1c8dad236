import { spawnSync } from 'node:child_process';

/** Python modules a bench's reference imports, each with the Debian packages it needs. */
export type PythonModules = Record<string, string[]>;

export const PIPELINE_REFERENCE: PythonModules = {
  numpy: ['python3-numpy'],
  // libtorch accepts any libblas.so.3; the reference's numbers are measured with OpenBLAS's pthread build
  torch: ['python3-torch', 'libopenblas0-pthread'],
  onnx: ['python3-onnx'],
};

export const GEN5_REFERENCE: PythonModules = {
  numpy: ['python3-numpy'],
  zstandard: ['python3-zstandard'],
  jsonschema: ['python3-jsonschema'],
  PIL: ['python3-pil'],
};

/**
 * Checks that `python` can import every module a reference needs, before any time is spent measuring, and says
 * exactly what to install when one is missing (on a fresh machine the pipeline reference failed with "No module
 * named 'onnx'" after the TypeScript side had already been timed).
 */
export function requirePythonModules(what: string, modules: PythonModules, python = '/usr/bin/python3'): void {
  const missing = Object.keys(modules).filter(
    (name) => spawnSync(python, ['-c', `import ${name}`], { encoding: 'utf8' }).status !== 0,
  );
  if (missing.length === 0) return;
  const packages = [...new Set(missing.flatMap((name) => modules[name]))];
  throw new Error(
    `${what} needs the Python module(s) ${missing.join(', ')} in ${python}. Install them with: ` +
      `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')} ` +
      '(or what all the benches need: sudo sh scripts/install-bench-deps.sh)',
  );
}
