/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and WASM packages are loaded by Node at run time, never bundled.
  serverExternalPackages: ['onnxruntime-node', 'sharp', '@huggingface/transformers', '@bokuweb/zstd-wasm', 'tsx'],
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` (tsc over the whole repository, CLI and tests included). Letting
  // `next build` check them again would make `npm start` and the browser tests fail on a type-only slip in code
  // the web app never imports, and costs the build several seconds on a 2-core machine.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
