import { Gen5Error } from './errors.ts';

/**
 * JSON exactly as Python's `json.dumps(obj, indent=2)` writes it (gen5 0.1.0 writes META and ENVC this way):
 * `,` + newline between items, `": "` after keys, ensure_ascii escaping (`\u2713`, surrogate pairs for astral
 * characters, `\u007f`), floats in `repr` form (`7.5`, `0.0`, `1e-05`, `1e+16`).
 *
 * JavaScript has one number type, so a value that Python holds as a float but is integral (0.0, 24.0) is marked
 * with PyFloat; plain numbers are written as ints when integral and as floats otherwise.
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_DUMP_DEPTH = 256;

export function pyDumps(value: PyJson, indent = 2): string {
  const out: string[] = [];
  write(value, 0);
  return out.join('');

  function write(v: PyJson, level: number): void {
    if (level > MAX_DUMP_DEPTH) throw new Gen5Error('INPUT', `JSON nested deeper than ${MAX_DUMP_DEPTH}`);
    if (v === null) out.push('null');
    else if (v === true) out.push('true');
    else if (v === false) out.push('false');
    else if (typeof v === 'number') out.push(Number.isInteger(v) ? intRepr(v) : floatRepr(v));
    else if (v instanceof PyFloat) out.push(floatRepr(v.value));
    else if (typeof v === 'string') out.push(quote(v));
    else if (Array.isArray(v)) {
      if (v.length === 0) return void out.push('[]');
      const pad = ' '.repeat(indent * (level + 1));
      out.push('[');
      v.forEach((item, i) => {
        out.push(i === 0 ? '\n' : ',\n', pad);
        write(item, level + 1);
      });
      out.push('\n', ' '.repeat(indent * level), ']');
    } else if (typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      if (keys.length === 0) return void out.push('{}');
      const pad = ' '.repeat(indent * (level + 1));
      out.push('{');
      keys.forEach((k, i) => {
        out.push(i === 0 ? '\n' : ',\n', pad, quote(k), ': ');
        write(v[k], level + 1);
      });
      out.push('\n', ' '.repeat(indent * level), '}');
    } else {
      throw new Gen5Error('INPUT', `cannot write ${typeof v} as JSON`);
    }
  }
}

function intRepr(v: number): string {
  // Python ints never switch to exponent notation; JavaScript's toString does from 1e21.
  return BigInt(v).toString();
}

/** Python's float repr: shortest round-trip digits, exponent form when exp < -4 or exp >= 16. */
export function floatRepr(v: number): string {
  // json.dumps would write NaN/Infinity, which is not JSON and which no other reader accepts.
  if (!Number.isFinite(v)) throw new Gen5Error('INPUT', `cannot write ${v} in JSON`);
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(v).toExponential().split('e');
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  8: '\\b',
  12: '\\f',
};

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short) out += short;
    // ensure_ascii: everything outside ' '..'~' as \uXXXX of its UTF-16 code unit (so pairs stay pairs).
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/**
 * Rejects JSON text nested deeper than `maxDepth` by scanning brackets outside strings, before any parser
 * (or validator) recurses into it.
 */
export function checkJsonDepth(text: string, maxDepth: number, what: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new Gen5Error('META_TOO_DEEP', `${what} is nested deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/**
 * Parses JSON keeping Python's int/float distinction (a literal with `.` or an exponent that is integral becomes
 * PyFloat), so JSON read from disk can be written back byte for byte. Depth is limited.
 */
export function parsePyJson(text: string, maxDepth = 64): PyJson {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Gen5Error('META_JSON', `invalid JSON at offset ${pos}: ${msg}`);
  };
  const skip = <T>(n: number, v: T): T => {
    pos += n;
    return v;
  };
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };
  const value = (depth: number): PyJson => {
    ws();
    const c = text[pos];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) throw new Gen5Error('META_TOO_DEEP', `JSON is nested deeper than ${maxDepth} levels`);
      pos++;
      ws();
      if (c === '[') {
        const arr: PyJson[] = [];
        if (text[pos] === ']') return skip(1, arr);
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[pos] === ',') pos++;
          else if (text[pos] === ']') return skip(1, arr);
          else fail('expected , or ]');
        }
      }
      const obj: { [k: string]: PyJson } = {};
      if (text[pos] === '}') return skip(1, obj);
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[pos++] !== ':') fail('expected :');
        // defineProperty: a "__proto__" key must be data, not a prototype change.
        Object.defineProperty(obj, k, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') return skip(1, obj);
        else fail('expected , or }');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', pos)) return skip(4, true);
    if (text.startsWith('false', pos)) return skip(5, false);
    if (text.startsWith('null', pos)) return skip(4, null);
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!m) return fail('unexpected character');
    pos += m[0].length;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) fail('number out of range');
    return (m[1] || m[2]) && Number.isInteger(n) ? new PyFloat(n) : n;
  };
  const str = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') {
      if (text.charCodeAt(pos) < 0x20) fail('control character in string');
      pos += text[pos] === '\\' ? 2 : 1;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    try {
      return JSON.parse(text.slice(start, pos));
    } catch {
      return fail('bad string escape');
    }
  };
  const v = value(0);
  ws();
  if (pos !== text.length) fail('trailing characters');
  return v;
}

/** Drops the PyFloat marks: what schema validation and consumers see. */
export function toPlainJson(v: PyJson): Json {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(toPlainJson);
  if (v !== null && typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, { value: toPlainJson(v[k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
