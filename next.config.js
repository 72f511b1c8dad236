/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and WASM packages are loaded by Node at run time, never bundled.
  serverExternalPackages: ['onnxruntime-node', 'sharp', '@huggingface/transformers', '@bokuweb/zstd-wasm', 'tsx'],
  poweredByHeader: false,
};

export default nextConfig;
