// scripts/gpu-cuda.ts (`npm run gpu:cuda`): what can be checked without a GPU or the network —
// argument parsing, refusal on an onnxruntime version mismatch, the missing-host-libraries message,
// and a dry run on a fake provider package (nothing is copied into onnxruntime-node).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_PACKAGE, FALLBACK_NEEDED, findProviderFiles, hostMessage, main, missingHostLibraries, neededLibraries,
  ortNodeBinDir, packageOrtVersion, parseArgs, versionProblem,
} from '../../../scripts/gpu-cuda.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

let tmp: { path: string; remove(): void };
let logs: string[];

beforeEach(() => {
  tmp = tempDir();
  logs = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); });
});
afterEach(() => {
  vi.restoreAllMocks();
  tmp.remove();
});

/** An unpacked provider package laid out like asus4's, with empty library files. */
function fakePackage(version: string, readmeOrt: string | null): string {
  const dir = join(tmp.path, `pkg-${version}`, 'package');
  mkdirSync(join(dir, 'Plugins', 'Linux', 'x64'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'com.github.asus4.onnxruntime.linux-x64-gpu', version }));
  if (readmeOrt) writeFileSync(join(dir, 'README.md'), `# GPU\n- ONNX Runtime: [${readmeOrt}](https://github.com/microsoft/onnxruntime/releases/tag/v${readmeOrt})\n`);
  for (const f of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) writeFileSync(join(dir, 'Plugins', 'Linux', 'x64', f), '');
  return dir;
}

describe('parseArgs', () => {
  it('defaults to the package FACTS.md names', () => {
    expect(parseArgs([])).toEqual({ source: null, packageSpec: DEFAULT_PACKAGE, dryRun: false, force: false, help: false });
  });
  it('takes a local tarball path and flags in any order', () => {
    expect(parseArgs(['--dry-run', '/media/usb/gpu.tgz', '--force'])).toMatchObject({ source: '/media/usb/gpu.tgz', dryRun: true, force: true });
    expect(parseArgs(['--package', 'x@1.0.0']).packageSpec).toBe('x@1.0.0');
  });
  it('rejects unknown options, two paths and a --package without a value', () => {
    expect(() => parseArgs(['--gpu'])).toThrow(/unknown option --gpu/);
    expect(() => parseArgs(['a.tgz', 'b.tgz'])).toThrow(/one package path only/);
    expect(() => parseArgs(['--package'])).toThrow(/--package needs a value/);
  });
  it('main exits 2 with the usage on a bad argument', () => {
    expect(main(['--nope'])).toBe(2);
    expect(logs.join('\n')).toMatch(/unknown option --nope[\s\S]*usage: npm run gpu:cuda/);
  });
});

describe('versions', () => {
  it('reads the onnxruntime version from the README, else from the known table', () => {
    expect(packageOrtVersion(fakePackage('9.9.9', '1.29.0'))).toEqual({ version: '1.29.0', pkgVersion: '9.9.9' });
    expect(packageOrtVersion(fakePackage('0.2.1', null))).toEqual({ version: '1.19.2', pkgVersion: '0.2.1' });
    expect(packageOrtVersion(fakePackage('7.7.7', null)).version).toBeNull();
  });
  it('refuses a mismatch or an unknown version unless forced', () => {
    expect(versionProblem('1.29.0', '1.29.0', false)).toBeNull();
    expect(versionProblem('1.19.2', '1.29.0', false)).toMatch(/onnxruntime 1\.19\.2 but onnxruntime-node is 1\.29\.0.*version mismatch/);
    expect(versionProblem(null, '1.29.0', false)).toMatch(/cannot tell/);
    expect(versionProblem('1.19.2', '1.29.0', true)).toBeNull();
  });
  it('the pinned onnxruntime-node is 1.29.0, the version of the default package', () => {
    expect(ortNodeBinDir().version).toBe('1.29.0');
  });
  it('main refuses the CUDA 12 package (ORT 1.19.2) and copies nothing', () => {
    const pkg = fakePackage('0.2.1', null);
    expect(main([pkg])).toBe(1);
    expect(logs.join('\n')).toMatch(/gpu:cuda: the provider package is for onnxruntime 1\.19\.2 but onnxruntime-node is 1\.29\.0/);
  });
  it('main refuses a folder that is not a provider package', () => {
    mkdirSync(join(tmp.path, 'empty'));
    expect(main([join(tmp.path, 'empty')])).toBe(1);
    expect(logs.join('\n')).toMatch(/not a CUDA provider package \(no libonnxruntime_providers_shared\.so, libonnxruntime_providers_cuda\.so\)/);
    expect(main([join(tmp.path, 'absent.tgz')])).toBe(1);
    expect(logs.join('\n')).toMatch(/absent\.tgz: no such file or folder/);
  });
  it('main refuses a file that is not a tarball', () => {
    writeFileSync(join(tmp.path, 'junk.tgz'), 'junk');
    expect(main([join(tmp.path, 'junk.tgz')])).toBe(1);
    expect(logs.join('\n')).toMatch(/cannot unpack .*junk\.tgz/);
  });
});

describe('host libraries', () => {
  it('lists the CUDA libraries and cuDNN (readelf cannot read a fake library: the known list)', () => {
    const pkg = fakePackage('0.4.9', '1.29.0');
    const needed = neededLibraries(findProviderFiles(pkg).get('libonnxruntime_providers_cuda.so')!);
    expect(needed).toEqual([...FALLBACK_NEEDED, 'libcudnn.so.9']);
  });
  it('names what is missing and how to get it', () => {
    const missing = missingHostLibraries(['libcudart.so.13', 'libcudnn.so.9'], new Set(['libcudart.so.13']));
    expect(missing).toEqual(['libcudnn.so.9']);
    expect(hostMessage(missing)).toMatch(/warning: the host lacks libcudnn\.so\.9[\s\S]*cuDNN 9[\s\S]*LD_LIBRARY_PATH[\s\S]*falls back to CPU/);
    expect(hostMessage([])).toMatch(/were found/);
  });
  it('a dry run on a matching package checks the host and copies nothing', () => {
    const pkg = fakePackage('0.4.9', '1.29.0');
    const { dir } = ortNodeBinDir();
    const before = existsSync(join(dir, 'libonnxruntime_providers_cuda.so'));
    expect(main([pkg, '--dry-run'])).toBe(0);
    const out = logs.join('\n');
    expect(out).toMatch(/provider package 0\.4\.9: onnxruntime 1\.29\.0; onnxruntime-node 1\.29\.0/);
    expect(out).toMatch(/host check: .*found|warning: the host lacks/);
    expect(out).toMatch(/dry run: would copy/);
    expect(existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))).toBe(before);
  });
});
