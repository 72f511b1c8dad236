import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, type } from 'node:os';
import { join } from 'node:path';
import { canonicalString, type EnvComponent } from '../gen5/index.ts';
import { projectRoot } from '../pipeline/project-root.ts';

/** A GPU as nvidia-smi reports it. */
export interface GpuInfo {
  name: string;
  driver: string;
}

export interface EnvironmentOptions {
  /** The execution provider the sessions actually use (default cpu). */
  executionProvider?: string;
  /** Model file digests, `{ "unet/model.onnx": sha256 }`: each becomes a component, so a swapped file shows as drift. */
  modelFiles?: Record<string, string>;
  /** GPUs to record; default: ask nvidia-smi once per process (none when it is absent or fails). */
  gpus?: GpuInfo[];
}

/**
 * Our runtime as ENVC components in gen5's canonical form. `os` is built exactly as gen5 0.1.0 builds it
 * (`platform.system() + " " + platform.release()`), so drift against files written by Python stays meaningful.
 */
export async function currentEnvironment(options: EnvironmentOptions = {}): Promise<EnvComponent[]> {
  const components: EnvComponent[] = [
    { id: 'node', canonical: canonicalString('node', { version: process.versions.node }) },
    { id: 'onnxruntime-node', canonical: canonicalString('onnxruntime-node', { version: onnxruntimeVersion() }) },
    {
      id: 'execution_provider',
      canonical: canonicalString('execution_provider', { provider: options.executionProvider ?? 'cpu' }),
    },
    { id: 'cpu', canonical: canonicalString('cpu', { model: cpuModel() }) },
    { id: 'os', canonical: canonicalString('os', { version: osVersion() }) },
  ];
  // Like gen5 0.1.0, every GPU is a component with id "gpu".
  for (const gpu of options.gpus ?? (await probeGpus())) {
    components.push({ id: 'gpu', canonical: canonicalString('gpu', { model: gpu.name, driver: gpu.driver }) });
  }
  for (const path of Object.keys(options.modelFiles ?? {}).sort()) {
    const id = `model_file:${path}`;
    components.push({
      id,
      canonical: canonicalString(id, { sha256: (options.modelFiles as Record<string, string>)[path] }),
    });
  }
  return components;
}

/** model_info.hardware_info for gen5 0.1.0 readers (its schema: os required, cpu_cores ≥ 1). */
export function hardwareInfo(executionProvider = 'cpu'): { [k: string]: string | number } {
  return {
    os: osVersion(),
    cpu: cpuModel(),
    cpu_cores: Math.max(1, cpus().length),
    framework: `onnxruntime-node ${onnxruntimeVersion()}`,
    compute_lib: executionProvider,
  };
}

export function osVersion(): string {
  // Python's platform.system() says "Windows" where Node's os.type() says "Windows_NT".
  const system = type() === 'Windows_NT' ? 'Windows' : type();
  return `${system} ${release()}`;
}

function cpuModel(): string {
  return cpus()[0]?.model.trim() || 'unknown';
}

let ortVersion: string | undefined;
function onnxruntimeVersion(): string {
  if (!ortVersion) {
    // Read the package's manifest rather than importing it: loading the native binding just for a version is slow.
    const require = createRequire(import.meta.url);
    const resolved: unknown = require.resolve('onnxruntime-node/package.json');
    // Inside the Next.js server bundle require.resolve yields a module id, not a path (readFileSync then took it for
    // a file descriptor: EBADF); there the package is read from the project's node_modules.
    const manifest =
      typeof resolved === 'string' ? resolved : join(projectRoot(), 'node_modules', 'onnxruntime-node', 'package.json');
    ortVersion = JSON.parse(readFileSync(manifest, 'utf8')).version as string;
  }
  return ortVersion;
}

let gpuProbe: Promise<GpuInfo[]> | undefined;

/** nvidia-smi's GPU names and driver version; none when it is missing, fails or takes more than 5 s. */
export function probeGpus(): Promise<GpuInfo[]> {
  gpuProbe ??= new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,driver_version', '--format=csv,noheader'],
      { timeout: 5000 },
      (err, stdout) => {
        if (err) return resolve([]);
        resolve(parseNvidiaSmi(stdout));
      },
    );
  });
  return gpuProbe;
}

export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((line) => line.split(',').map((s) => s.trim()))
    .filter((cells) => cells.length === 2 && cells[0] && cells[1])
    .map(([name, driver]) => ({ name, driver }));
}
