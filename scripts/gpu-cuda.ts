// `npm run gpu:cuda [-- <package.tgz | unpacked folder>] [--dry-run] [--force]`
//
// Opt-in: adds onnxruntime's CUDA execution provider to onnxruntime-node, whose linux-x64 npm build
// ships only cpu and webgpu. The provider libraries come from the npm package
// com.github.asus4.onnxruntime.linux-x64-gpu (see /work/shared/FACTS.md): fetched with `npm pack`
// (registry or npm cache), or, on an air-gapped site, from the .tgz carried in (or its unpacked
// folder) given as the argument. The package's onnxruntime version must equal onnxruntime-node's;
// the host must have the CUDA runtime, cuBLAS, cuRAND and cuDNN the provider needs (checked, with
// a warning: the files are installed anyway, and FactorLab falls back to CPU until they are there).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_PACKAGE = 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9';
/** Package version → onnxruntime version, for packages whose README does not say (FACTS.md). */
export const KNOWN_ORT_VERSIONS: Record<string, string> = { '0.4.9': '1.29.0', '0.2.1': '1.19.2' };
export const PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** What libonnxruntime_providers_cuda.so (0.4.9: CUDA 13, cuDNN 9) needs from the host when readelf is absent. */
export const FALLBACK_NEEDED = ['libcuda.so.1', 'libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10'];
/** Loaded at run time with dlopen, so not in DT_NEEDED. */
export const DLOPENED = ['libcudnn.so.9'];

export interface Args {
  source: string | null;
  packageSpec: string;
  dryRun: boolean;
  force: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run gpu:cuda -- [<package.tgz | unpacked package folder>] [--package name@version] [--dry-run] [--force]
  Installs onnxruntime's CUDA provider libraries into onnxruntime-node's bin folder.
  With no path, runs \`npm pack ${DEFAULT_PACKAGE}\` (registry or npm cache).
  Air-gapped: fetch that .tgz elsewhere (npm pack ${DEFAULT_PACKAGE}), carry it in, pass its path.
  --dry-run  check versions and host libraries, copy nothing
  --force    install even if the package's onnxruntime version differs from onnxruntime-node's`;

export function parseArgs(argv: string[]): Args {
  const a: Args = { source: null, packageSpec: DEFAULT_PACKAGE, dryRun: false, force: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--dry-run') a.dryRun = true;
    else if (arg === '--force') a.force = true;
    else if (arg === '-h' || arg === '--help') a.help = true;
    else if (arg === '--package') {
      const v = argv[++i];
      if (!v || v.startsWith('-')) throw new Error('--package needs a value, e.g. --package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9');
      a.packageSpec = v;
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (a.source !== null) throw new Error(`one package path only (got ${a.source} and ${arg})`);
    else a.source = arg;
  }
  return a;
}

/** The onnxruntime version a provider package was built for: its README, else the known table. */
export function packageOrtVersion(pkgDir: string): { version: string | null; pkgVersion: string | null } {
  let pkgVersion: string | null = null;
  try {
    pkgVersion = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch { /* no package.json */ }
  try {
    const m = /ONNX Runtime:\s*\[?v?(\d+\.\d+\.\d+)/i.exec(readFileSync(join(pkgDir, 'README.md'), 'utf8'));
    if (m) return { version: m[1]!, pkgVersion };
  } catch { /* no README */ }
  return { version: pkgVersion ? KNOWN_ORT_VERSIONS[pkgVersion] ?? null : null, pkgVersion };
}

/** Refusal message when the versions differ, or null when they match (or --force). */
export function versionProblem(pkgOrt: string | null, nodeOrt: string, force: boolean): string | null {
  if (pkgOrt === nodeOrt) return null;
  const msg = pkgOrt === null
    ? `cannot tell which onnxruntime version the provider package was built for (onnxruntime-node is ${nodeOrt})`
    : `the provider package is for onnxruntime ${pkgOrt} but onnxruntime-node is ${nodeOrt}: the provider would fail to load (version mismatch)`;
  return force ? null : `${msg}. Use the package built for ${nodeOrt} (${DEFAULT_PACKAGE} for 1.29.0), or --force.`;
}

/** Finds the provider files anywhere under an unpacked package (Plugins/Linux/x64/ in asus4's). */
export function findProviderFiles(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (PROVIDER_FILES.includes(e.name) && !found.has(e.name)) found.set(e.name, p);
    }
  };
  walk(root, 0);
  return found;
}

/** Library names the host's dynamic linker knows: ldconfig's cache plus the usual CUDA folders. */
export function hostLibraries(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const names = new Set<string>();
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(cmd, ['-p'], { encoding: 'utf8' });
    if (r.status === 0) {
      for (const line of r.stdout.split('\n')) {
        const m = /^\s*(\S+\.so[.\d]*)\s/.exec(line);
        if (m) names.add(m[1]!);
      }
      break;
    }
  }
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/local/cuda/lib64',
    '/usr/local/cuda/targets/x86_64-linux/lib', '/usr/lib/x86_64-linux-gnu', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib'];
  for (const d of dirs) {
    try {
      for (const n of readdirSync(d)) if (n.includes('.so')) names.add(n);
    } catch { /* absent */ }
  }
  return names;
}

/** The provider's DT_NEEDED CUDA libraries (readelf when present, else the known list), plus cuDNN. */
export function neededLibraries(cudaProvider: string | null): string[] {
  let needed = FALLBACK_NEEDED;
  if (cudaProvider) {
    const r = spawnSync('readelf', ['-d', cudaProvider], { encoding: 'utf8' });
    if (r.status === 0) {
      const libs = [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!)
        .filter((n) => /^lib(cuda|cudart|cublas|cublasLt|curand|cufft|cudnn|nvrtc)\b/.test(n));
      if (libs.length) needed = libs;
    }
  }
  return [...needed, ...DLOPENED];
}

export function missingHostLibraries(needed: string[], have: Set<string>): string[] {
  return needed.filter((n) => !have.has(n));
}

export function hostMessage(missing: string[]): string {
  if (missing.length === 0) return 'host check: the CUDA runtime, cuBLAS, cuRAND and cuDNN libraries were found';
  return [
    `warning: the host lacks ${missing.join(', ')}.`,
    '  The CUDA provider needs the NVIDIA driver (libcuda.so.1), the CUDA 13 runtime, cuBLAS and cuRAND, and cuDNN 9;',
    '  neither npm nor Debian provides them: install NVIDIA\'s CUDA toolkit and cuDNN (or put their lib folder on',
    '  LD_LIBRARY_PATH). Until then FactorLab falls back to CPU and says why.',
  ].join('\n');
}

export function ortNodeBinDir(): { dir: string; version: string } {
  const req = createRequire(import.meta.url);
  const pkgJson = req.resolve('onnxruntime-node/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  return { dir: join(dirname(pkgJson), 'bin', 'napi-v6', process.platform, process.arch), version };
}

function unpack(source: string, work: string): string {
  if (statSync(source).isDirectory()) return existsSync(join(source, 'package')) ? join(source, 'package') : source;
  const r = spawnSync('tar', ['-xzf', source, '-C', work], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot unpack ${source}: ${r.stderr.trim() || `tar exited ${r.status}`}`);
  return existsSync(join(work, 'package')) ? join(work, 'package') : work;
}

function fetchPackage(spec: string, work: string): string {
  console.log(`fetching ${spec} with npm pack (about 180 MB)…`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['pack', spec, '--pack-destination', work, '--silent'], { encoding: 'utf8' });
  const tgz = readdirSync(work).find((n) => n.endsWith('.tgz'));
  if (r.status !== 0 || !tgz) {
    throw new Error(`npm pack ${spec} failed (${(r.stderr || '').trim().split('\n').pop() ?? ''}).\n` +
      `  Offline? Fetch the package where the registry is reachable (npm pack ${spec}), carry the .tgz in and run\n` +
      '  npm run gpu:cuda -- /path/to/the.tgz');
  }
  return join(work, tgz);
}

export function main(argv: string[]): number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`gpu:cuda: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`gpu:cuda: this installer handles linux-x64 only (this is ${process.platform}-${process.arch})`);
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'factorlab-gpu-cuda-'));
  try {
    if (args.source !== null && !existsSync(args.source)) throw new Error(`${args.source}: no such file or folder`);
    const source = args.source !== null ? resolve(args.source) : fetchPackage(args.packageSpec, work);
    const pkgDir = unpack(source, work);
    const files = findProviderFiles(pkgDir);
    const absent = PROVIDER_FILES.filter((f) => !files.has(f));
    if (absent.length) throw new Error(`${source}: not a CUDA provider package (no ${absent.join(', ')})`);
    const { dir, version: nodeOrt } = ortNodeBinDir();
    const { version: pkgOrt, pkgVersion } = packageOrtVersion(pkgDir);
    const problem = versionProblem(pkgOrt, nodeOrt, args.force);
    if (problem) throw new Error(problem);
    console.log(`provider package ${pkgVersion ?? '(unknown version)'}: onnxruntime ${pkgOrt ?? 'unknown'}; onnxruntime-node ${nodeOrt}`);
    const missing = missingHostLibraries(neededLibraries(files.get('libonnxruntime_providers_cuda.so')!), hostLibraries());
    console.log(hostMessage(missing));
    if (args.dryRun) {
      console.log(`dry run: would copy ${PROVIDER_FILES.join(', ')} into ${dir}`);
      return 0;
    }
    for (const f of PROVIDER_FILES) copyFileSync(files.get(f)!, join(dir, f));
    console.log(`installed ${PROVIDER_FILES.join(', ')} into ${dir}`);
    console.log('FactorLab now tries CUDA first (--provider auto|cuda); remove the two files to undo.');
    return 0;
  } catch (err) {
    console.error(`gpu:cuda: ${(err as Error).message}`);
    return 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
