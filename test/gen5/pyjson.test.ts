import { describe, expect, it } from 'vitest';
import { Gen5Error } from '../../gen5/errors.ts';
import { floatRepr, PyFloat, parsePyJson, pyDumps } from '../../gen5/pyjson.ts';

// Expected strings are Python 3.11's repr(float) and json.dumps(..., indent=2), captured from /usr/bin/python3.
const REPRS: [number, string][] = [
  [0.0, '0.0'],
  [-0.0, '-0.0'],
  [1.0, '1.0'],
  [-2.5, '-2.5'],
  [0.1, '0.1'],
  [1e-5, '1e-05'],
  [0.0001, '0.0001'],
  [0.00012345, '0.00012345'],
  [1e16, '1e+16'],
  [1.5e16, '1.5e+16'],
  [9999999999999998.0, '9999999999999998.0'],
  [1234567890123456.8, '1234567890123456.8'],
  [1e22, '1e+22'],
  [5e-324, '5e-324'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [123456.789, '123456.789'],
  [Math.PI, '3.141592653589793'],
  [2.5e-7, '2.5e-07'],
  [100.0, '100.0'],
  [7.5, '7.5'],
  [24.0, '24.0'],
  [-1e-5, '-1e-05'],
  [0.1 + 0.2, '0.30000000000000004'],
];

describe('Python json.dumps emulation', () => {
  it.each(REPRS)('writes %d as Python repr %s', (v, repr) => {
    expect(floatRepr(v)).toBe(repr);
  });

  it('indents, separates and escapes like json.dumps(indent=2) with ensure_ascii', () => {
    const value = { a: '✓ 😀 \x7f \x00\x1f\t\n\r\b\f"\\/ é', n: [1, new PyFloat(2), {}], e: [], f: { x: {} } };
    const python =
      '{\n  "a": "\\u2713 \\ud83d\\ude00 \\u007f \\u0000\\u001f\\t\\n\\r\\b\\f\\"\\\\/ \\u00e9",\n  "n": [\n    1,\n    2.0,\n    {}\n  ],\n  "e": [],\n  "f": {\n    "x": {}\n  }\n}';
    expect(pyDumps(value)).toBe(python);
    expect(pyDumps(parsePyJson(python))).toBe(python);
  });

  it('writes large integers without exponent, as Python ints', () => {
    expect(pyDumps(1e21)).toBe('1000000000000000000000');
  });

  it('refuses NaN and Infinity, which json.dumps would write as non-JSON', () => {
    expect(() => pyDumps({ x: Number.NaN })).toThrow(Gen5Error);
    expect(() => pyDumps(new PyFloat(Number.POSITIVE_INFINITY))).toThrow(/Infinity/);
  });

  it('parses a __proto__ key as data', () => {
    const v = parsePyJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects deep nesting and bad JSON with typed errors', () => {
    expect(() => parsePyJson('['.repeat(100) + ']'.repeat(100), 64)).toThrow(
      expect.objectContaining({ code: 'META_TOO_DEEP' }),
    );
    expect(() => parsePyJson('{"a": 1,}')).toThrow(expect.objectContaining({ code: 'META_JSON' }));
    expect(() => parsePyJson('[1] x')).toThrow(/trailing/);
  });
});
