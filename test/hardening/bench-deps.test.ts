import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEN5_REFERENCE, PIPELINE_REFERENCE, requirePythonModules } from '../../bench/python-deps.ts';

// The benches' Python references say what to install before they measure anything.
describe('bench Python references', () => {
  it('name the missing module and the exact command that installs it', () => {
    expect(() =>
      requirePythonModules('the test reference', { json: ['python3'], lob_no_such_module: ['python3-lob-nothing'] }),
    ).toThrow(
      'the test reference needs the Python module(s) lob_no_such_module in /usr/bin/python3. Install them with: ' +
        'sudo apt-get update && sudo apt-get install -y python3-lob-nothing ' +
        '(or what all the benches need: sudo sh scripts/install-bench-deps.sh)',
    );
  });

  it('on a machine without onnx and torch, the pipeline bench says to install python3-onnx and torch with its BLAS', () => {
    // A python3 that has numpy but neither torch nor onnx, as on a fresh machine.
    const dir = mkdtempSync(join(tmpdir(), 'lob-fake-python-'));
    const python = join(dir, 'python3');
    writeFileSync(python, '#!/bin/sh\ncase "$2" in *torch*|*onnx*) exit 1;; esac\nexit 0\n', { mode: 0o755 });
    try {
      expect(() =>
        requirePythonModules('the PyTorch reference (bench/python/pipeline_ref.py)', PIPELINE_REFERENCE, python),
      ).toThrow(
        `the PyTorch reference (bench/python/pipeline_ref.py) needs the Python module(s) torch, onnx in ${python}. ` +
          'Install them with: sudo apt-get update && sudo apt-get install -y python3-torch libopenblas0-pthread python3-onnx ',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('install every package they name from the project script, with the BLAS torch loads', () => {
    const script = readFileSync(resolve(import.meta.dirname, '../../scripts/install-bench-deps.sh'), 'utf8');
    for (const pkg of [...Object.values(PIPELINE_REFERENCE).flat(), ...Object.values(GEN5_REFERENCE).flat()]) {
      expect(script).toContain(pkg);
    }
  });
});
