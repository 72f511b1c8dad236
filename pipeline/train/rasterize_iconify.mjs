// Rasterises the emoji of Iconify JSON sets (npm @iconify-json/*) to 64×64 RGB on white, with sharp (librsvg),
// for pipeline/train/data.py: Python has no SVG renderer, the app already depends on sharp.
//
//   node pipeline/train/rasterize_iconify.mjs OUT_DIR SET [SET …]
//
// Writes OUT_DIR/SET.rgb (N × 64 × 64 × 3 uint8, row-major) and OUT_DIR/SET.json
// ({ set, license, author, icons: [{ name, hex }] }, hex from the set's chars.json where it has one, else null: the
// Python side maps names to code points). Aliases are skipped: they repeat an icon under another name.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';

const SIZE = 64;
const require = createRequire(import.meta.url);

function svgOf(set, icon) {
  const w = icon.width ?? set.width ?? 16;
  const h = icon.height ?? set.height ?? 16;
  const box = `${icon.left ?? set.left ?? 0} ${icon.top ?? set.top ?? 0} ${w} ${h}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${SIZE}" height="${SIZE}" viewBox="${box}">${icon.body}</svg>`;
}

async function rasterise(svg) {
  return sharp(Buffer.from(svg), { limitInputPixels: SIZE * SIZE * 64 })
    .resize(SIZE, SIZE, { fit: 'contain', background: '#ffffff' })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

async function rasteriseSet(name, outDir) {
  const dir = join(require.resolve(`@iconify-json/${name}/package.json`), '..');
  const set = JSON.parse(readFileSync(join(dir, 'icons.json'), 'utf8'));
  const info = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'));
  let chars = {};
  try {
    chars = JSON.parse(readFileSync(join(dir, 'chars.json'), 'utf8'));
  } catch {
    // sets without chars.json are matched by name in data.py
  }
  const hexOf = new Map(Object.entries(chars).map(([hex, icon]) => [icon, hex.toUpperCase()]));
  const names = Object.keys(set.icons).sort();
  const pixels = Buffer.alloc(names.length * SIZE * SIZE * 3);
  const batch = 16;
  for (let i = 0; i < names.length; i += batch) {
    const chunk = names.slice(i, i + batch);
    const rendered = await Promise.all(chunk.map((n) => rasterise(svgOf(set, set.icons[n]))));
    for (const [j, buf] of rendered.entries()) buf.copy(pixels, (i + j) * SIZE * SIZE * 3);
  }
  writeFileSync(join(outDir, `${name}.rgb`), pixels);
  const icons = names.map((n) => ({ name: n, hex: hexOf.get(n) ?? null }));
  const meta = { set: name, version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version };
  writeFileSync(
    join(outDir, `${name}.json`),
    JSON.stringify({ ...meta, license: info.license, author: info.author, icons }),
  );
  return names.length;
}

const [outDir, ...sets] = process.argv.slice(2);
if (!outDir || sets.length === 0) {
  console.error('usage: node pipeline/train/rasterize_iconify.mjs OUT_DIR SET [SET …]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
for (const name of sets) {
  const n = await rasteriseSet(name, outDir);
  console.log(`${name}: ${n} icons -> ${join(outDir, `${name}.rgb`)}`);
}
