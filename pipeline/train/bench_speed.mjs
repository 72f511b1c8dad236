// Times one full image with onnxruntime-node: steps x UNet at batch 2 (classifier-free guidance) + VAE decoder.
// Prints the median over runs as JSON. The DDIM arithmetic itself is negligible next to the graphs.
// Usage: node pipeline/train/bench_speed.mjs [modelDir] [steps] [runs]
import path from 'node:path';
import ort from 'onnxruntime-node';

const dir = process.argv[2] ?? 'models/emoji';
const steps = Number(process.argv[3] ?? 16);
const runs = Number(process.argv[4] ?? 15);
const unet = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'));
const dec = await ort.InferenceSession.create(path.join(dir, 'vae_decoder', 'model.onnx'));
const ehs = new ort.Tensor(
  'float32',
  Float32Array.from({ length: 2 * 16 * 64 }, (_, i) => Math.cos(i)),
  [2, 16, 64],
);

async function image() {
  let x = Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i));
  for (let s = 0; s < steps; s++) {
    const t = BigInt(999 - Math.floor((s * 1000) / steps));
    const both = new Float32Array(2048);
    both.set(x, 0);
    both.set(x, 1024);
    const r = await unet.run({
      sample: new ort.Tensor('float32', both, [2, 4, 16, 16]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([t, t]), [2]),
      encoder_hidden_states: ehs,
    });
    const v = r.out_sample.data;
    x = x.map((xi, i) => 0.99 * xi - 0.01 * (v[i] + 4 * (v[1024 + i] - v[i])));
  }
  await dec.run({ latent_sample: new ort.Tensor('float32', x, [1, 4, 16, 16]) });
}

await image();
const times = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await image();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({ steps, runs, median_ms: times[Math.floor(runs / 2)], min_ms: times[0], max_ms: times[runs - 1] }),
);
