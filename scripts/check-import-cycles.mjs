// Usage: node scripts/check-import-cycles.mjs [ROOT]   (exit 1 when there is a cycle; run by test/pipeline/rooms.test.ts)
// Import cycles among the repository's TS/MJS files (static, type-only, re-exports and dynamic import('…') all count),
// plus the room-level graph of pipeline/ (room = first folder under pipeline/, or the top-level file itself).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const skip = new Set(['node_modules', '.next', '.git', 'models', 'data', 'test-results', 'scratch', '.cache']);
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(ts|tsx|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(p);
  }
})(root);
const re =
  /(?:^|[^\w.])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const graph = new Map();
let missing = 0;
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec);
    if (!existsSync(target) || statSync(target).isDirectory()) {
      console.log(`UNRESOLVED ${relative(root, f)} -> ${spec}`);
      missing++;
      continue;
    }
    deps.add(target);
  }
  graph.set(f, deps);
}
function sccs(g) {
  let i = 0;
  const idx = new Map(),
    low = new Map(),
    on = new Set(),
    st = [],
    out = [];
  const visit = (v) => {
    idx.set(v, i);
    low.set(v, i++);
    st.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = st.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || g.get(v)?.has(v)) out.push(c);
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}
const fileCycles = sccs(graph);
console.log(
  `${files.length} files, ${[...graph.values()].reduce((a, s) => a + s.size, 0)} relative imports, ${missing} unresolved`,
);
console.log(fileCycles.length ? `FILE CYCLES: ${fileCycles.length}` : 'file cycles: none');
for (const c of fileCycles) console.log(`  ${c.map((f) => relative(root, f)).join(' <-> ')}`);
const pipe = join(root, 'pipeline');
const room = (f) => {
  const r = relative(pipe, f);
  return r.includes('/') ? `${r.split('/')[0]}/` : r;
};
const rg = new Map();
for (const [f, deps] of graph) {
  if (!f.startsWith(`${pipe}/`)) continue;
  const a = room(f);
  if (!rg.has(a)) rg.set(a, new Set());
  for (const d of deps) {
    if (!d.startsWith(`${pipe}/`)) {
      if (!d.startsWith(pipe)) rg.get(a).add(`../${relative(root, d).split('/')[0]}/`);
      continue;
    }
    const b = room(d);
    if (b !== a) rg.get(a).add(b);
  }
}
const roomCycles = sccs(new Map([...rg].map(([k, v]) => [k, new Set([...v].filter((x) => rg.has(x)))])));
console.log(
  roomCycles.length ? `ROOM CYCLES: ${roomCycles.map((c) => c.join(' <-> ')).join('; ')}` : 'room cycles: none',
);
for (const [k, v] of [...rg].sort()) console.log(`  ${k} -> ${[...v].sort().join(' ') || '(nothing)'}`);
// an unresolved import is only reported: one test builds an import path inside a string
process.exit(fileCycles.length || roomCycles.length ? 1 : 0);
