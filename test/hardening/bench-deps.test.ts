import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEN5_REFERENCE, PIPELINE_REFERENCE, requirePythonModules } from '../../bench/python-deps.ts';

// The benches' Python references say what to install before they measure anything.
describe('bench Python references', () => {
  it('name the missing module, its Debian package and the install script', () => {
    expect(() =>
      requirePythonModules('the test reference', { json: 'python3', lob_no_such_module: 'python3-lob-nothing' }),
    ).toThrow(
      "the test reference needs the Python module(s) lob_no_such_module in /usr/bin/python3: install Debian's " +
        'python3-lob-nothing (all the benches need: sudo sh scripts/install-bench-deps.sh)',
    );
  });

  it('install every package they name from the project script, with the BLAS torch loads', () => {
    const script = readFileSync(resolve(import.meta.dirname, '../../scripts/install-bench-deps.sh'), 'utf8');
    for (const pkg of [
      ...Object.values(PIPELINE_REFERENCE),
      ...Object.values(GEN5_REFERENCE),
      'libopenblas0-pthread',
    ]) {
      expect(script).toContain(pkg);
    }
  });
});
