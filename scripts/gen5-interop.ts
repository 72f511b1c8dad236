// Our side of scripts/gen5-interop.sh:
//   write DIR   .gen5 files from a real render of the tiny SD fixture (with provenance), f16/f32, zstd/raw,
//               with and without image, each with NAME.expect.json for scripts/gen5-interop.py
//   check DIR   decode + verify every DIR/*.gen5 written by gen5 0.1.0 against its NAME.expect.json
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGen5, encodeGen5, verifyGen5 } from '../gen5/index.ts';
import { castF32BytesToF16 } from '../gen5/latent.ts';
import { currentEnvironment } from '../lib/environment.ts';
import { buildGen5Input } from '../lib/provenance.ts';
import { loadModel } from '../pipeline/model/load.ts';
import { encodeText } from '../pipeline/model/text-encoder.ts';
import { encodeModelKey } from '../pipeline/render/keys.ts';
import { SeededRandom } from '../pipeline/render/prng.ts';
import { renderKey } from '../pipeline/render/render.ts';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

async function write(dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const model = await loadModel(join(import.meta.dirname, '..', 'test', 'fixtures', 'tiny-sd15'), {
    intraOpNumThreads: 1,
  });
  try {
    const { hidden } = await encodeText(model, 'interop: a red cat');
    const [c, h, w] = model.shapes.latent;
    const key = encodeModelKey(model, { steps: 2, embedding: hidden, latent: new SeededRandom(5).normals(c * h * w) });
    const result = await renderKey(model, key);
    const environment = await currentEnvironment({
      executionProvider: model.settings.executionProvider,
      modelFiles: model.folder.files,
    });
    const base = buildGen5Input(result, { environment, prompt: 'interop: a red cat ✓' });
    const matrix = [
      { name: 'ours-render-f32-zstd', float16: false, compress: true, image: true },
      { name: 'ours-render-f16-raw', float16: true, compress: false, image: true },
      { name: 'ours-noimage-f32-raw', float16: false, compress: false, image: false },
      { name: 'ours-noimage-f16-zstd', float16: true, compress: true, image: false },
    ];
    for (const m of matrix) {
      const input = { ...base, float16: m.float16, compress: m.compress, image: m.image ? base.image : undefined };
      writeFileSync(join(dir, `${m.name}.gen5`), await encodeGen5(input));
      const latents = Object.fromEntries(
        input.latents.map((l) => {
          const data = m.float16 ? castF32BytesToF16(l.data) : l.data;
          return [l.name, { shape: l.shape, dtype: m.float16 ? 'float16' : 'float32', sha256: sha(data) }];
        }),
      );
      const expect = { latents, image_sha256: m.image ? result.pngSha256 : null, key_sha256: sha(result.key) };
      writeFileSync(join(dir, `${m.name}.expect.json`), JSON.stringify(expect, null, 1));
      console.log(`wrote ${m.name}.gen5 with lob's encoder`);
    }
  } finally {
    await model.release();
  }
  return 0;
}

async function check(dir: string): Promise<number> {
  let failed = 0;
  const names = readdirSync(dir).filter((f) => f.endsWith('.gen5'));
  for (const f of names) {
    const problems: string[] = [];
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const expect = JSON.parse(readFileSync(join(dir, f.replace(/\.gen5$/, '.expect.json')), 'utf8'));
    try {
      const file = await decodeGen5(bytes);
      const got = Object.fromEntries(
        file.latents.map((l) => [l.name, { shape: l.shape, dtype: l.dtype, sha256: sha(l.data) }]),
      );
      if (JSON.stringify(got) !== JSON.stringify(expect.latents))
        problems.push(`latents ${JSON.stringify(got)} != ${JSON.stringify(expect.latents)}`);
      if ((file.image ? sha(file.image) : null) !== expect.image_sha256) problems.push('image differs');
      if (file.meta.gen5_metadata.model_info.prompt !== expect.prompt) problems.push('prompt differs');
      if (!file.metaText.includes(expect.cfg_scale_text)) problems.push('META text is not what Python wrote');
      const report = await verifyGen5(bytes);
      if (!report.ok) problems.push(...report.failures);
    } catch (err) {
      problems.push(String(err));
    }
    console.log(
      `${problems.length ? 'FAIL' : 'ok  '} ${f}${problems.length ? `: ${problems.join('; ')}` : ': decoded and verified, matches what gen5 0.1.0 was given'}`,
    );
    if (problems.length) failed++;
  }
  console.log(
    `gen5-interop: lob decoded and verified ${names.length - failed}/${names.length} files written by gen5 0.1.0`,
  );
  return failed || names.length === 0 ? 1 : 0;
}

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'write' && mode !== 'check') || !dir) {
  console.error('usage: gen5-interop.ts write|check DIR');
  process.exit(2);
}
process.exitCode = await (mode === 'write' ? write(dir) : check(dir));
