// Runs every exported ONNX graph in onnxruntime-node on the reference inputs written by export.py and compares
// with the PyTorch outputs. Exits 1 if any output differs by more than the tolerance.
// Usage: node pipeline/train/check_onnx.mjs <modelDir> <reference.json>
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const TOLERANCE = 1e-3;
const [dir, refPath] = process.argv.slice(2);
const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
let failed = false;
for (const [name, { inputs, outputs }] of Object.entries(ref)) {
  const session = await ort.InferenceSession.create(path.join(dir, name, 'model.onnx'));
  const feeds = {};
  for (const [k, v] of Object.entries(inputs)) {
    feeds[k] =
      v.dtype === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(v.data.map((x) => BigInt(x))), v.shape)
        : new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  }
  const result = await session.run(feeds);
  for (const [k, v] of Object.entries(outputs)) {
    const got = result[k];
    const shapeOk = JSON.stringify(Array.from(got.dims)) === JSON.stringify(v.shape);
    let maxDiff = 0;
    for (let i = 0; i < v.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - v.data[i]));
    const ok = shapeOk && maxDiff <= TOLERANCE;
    if (!ok) failed = true;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}.${k} shape [${got.dims}] max abs diff ${maxDiff.toExponential(2)}`);
  }
}
process.exit(failed ? 1 : 0);
