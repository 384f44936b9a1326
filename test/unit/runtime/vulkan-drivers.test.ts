// Hardware Vulkan detection from real ICD manifest files written to a temporary folder (no mocks).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkWebgpuHardware, findIcdManifests, forgetWebgpuHardware, gpuDeviceNodes, isSoftwareDriverLibrary, noHardwareVulkan, readVulkanDrivers, vulkanLoaderPresent,
  webgpuHardwareUnavailable,
} from '../../../native-models/runtime/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

let tmp: { path: string; remove(): void };
beforeEach(() => { tmp = tempDir(); });
afterEach(() => { tmp.remove(); });

function manifest(dir: string, name: string, library: string | null): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ file_format_version: '1.0.0', ICD: library === null ? { api_version: '1.3.0' } : { library_path: library, api_version: '1.3.0' } }));
  return path;
}

/** A /dev look-alike with the given entries. */
function devDir(...entries: string[]): string {
  const dev = join(tmp.path, 'dev');
  mkdirSync(join(dev, 'dri'), { recursive: true });
  for (const e of entries) writeFileSync(join(dev, e), '');
  return dev;
}

describe('isSoftwareDriverLibrary', () => {
  it('knows lavapipe, llvmpipe and SwiftShader by the library file name', () => {
    for (const lib of ['libvulkan_lvp.so', '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so', 'libvk_swiftshader.so', './libvulkan_lavapipe.so', 'llvmpipe.so'])
      expect(isSoftwareDriverLibrary(lib), lib).toBe(true);
    for (const lib of ['libGLX_nvidia.so.0', 'libvulkan_radeon.so', 'libvulkan_intel.so', '/opt/lvp-tools/libvulkan_intel.so'])
      expect(isSoftwareDriverLibrary(lib), lib).toBe(false);
  });
});

describe('findIcdManifests', () => {
  it('VK_DRIVER_FILES (files and folders, colon-separated) replaces the search; VK_ICD_FILENAMES is the older name', () => {
    const a = manifest(join(tmp.path, 'a'), 'nvidia_icd.json', 'libGLX_nvidia.so.0');
    const bDir = join(tmp.path, 'b');
    const b1 = manifest(bDir, 'lvp_icd.json', 'libvulkan_lvp.so');
    const b2 = manifest(bDir, 'radeon_icd.json', 'libvulkan_radeon.so');
    writeFileSync(join(bDir, 'README'), 'not a manifest');
    expect(findIcdManifests({ VK_DRIVER_FILES: `${a}:${bDir}`, VK_ICD_FILENAMES: '/ignored.json' })).toEqual([a, b1, b2]);
    expect(findIcdManifests({ VK_ICD_FILENAMES: a })).toEqual([a]);
  });

  it('otherwise searches the XDG and system icd.d folders, then VK_ADD_DRIVER_FILES', () => {
    const home = manifest(join(tmp.path, 'home-data', 'vulkan', 'icd.d'), 'mine.json', 'libmine.so');
    const data = manifest(join(tmp.path, 'data', 'vulkan', 'icd.d'), 'lvp_icd.json', 'libvulkan_lvp.so');
    const extra = manifest(join(tmp.path, 'extra'), 'x.json', 'libx.so');
    const found = findIcdManifests({ XDG_DATA_HOME: join(tmp.path, 'home-data'), XDG_DATA_DIRS: join(tmp.path, 'data'), XDG_CONFIG_DIRS: join(tmp.path, 'none'), VK_ADD_DRIVER_FILES: extra });
    expect(found).toContain(home);
    expect(found).toContain(data);
    expect(found.at(-1)).toBe(extra);
    expect(found.indexOf(home)).toBeLessThan(found.indexOf(data));
  });
});

describe('noHardwareVulkan over real manifests', () => {
  it('only lavapipe: unavailable, naming the software driver', () => {
    const drivers = readVulkanDrivers([manifest(tmp.path, 'lvp_icd.json', 'libvulkan_lvp.so')]);
    expect(drivers).toEqual([{ manifest: join(tmp.path, 'lvp_icd.json'), library: 'libvulkan_lvp.so', software: true }]);
    expect(noHardwareVulkan(drivers, gpuDeviceNodes(devDir('dri/renderD128')))).toBe(
      'only software Vulkan drivers are installed (libvulkan_lvp.so): WebGPU on them is slower than the CPU provider',
    );
  });

  it('a hardware driver with its GPU device node: available', () => {
    const drivers = readVulkanDrivers([manifest(tmp.path, 'lvp_icd.json', 'libvulkan_lvp.so'), manifest(tmp.path, 'nvidia_icd.json', 'libGLX_nvidia.so.0')]);
    expect(noHardwareVulkan(drivers, gpuDeviceNodes(devDir('nvidia0', 'nvidiactl')))).toBeNull();
  });

  it("Mesa's hardware manifests without any GPU device (this CI machine's case): only software can run", () => {
    const drivers = readVulkanDrivers([manifest(tmp.path, 'intel_icd.json', '/usr/lib/x86_64-linux-gnu/libvulkan_intel.so'), manifest(tmp.path, 'lvp_icd.json', 'libvulkan_lvp.so')]);
    const nodes = gpuDeviceNodes(devDir('null', 'nvidiactl'));
    expect(nodes).toEqual([]);
    expect(noHardwareVulkan(drivers, nodes)).toMatch(/^only software Vulkan drivers can run \(libvulkan_lvp\.so; no GPU device node .* for the hardware drivers libvulkan_intel\.so\): WebGPU on them is slower/);
    expect(noHardwareVulkan(drivers.slice(0, 1), nodes)).toMatch(/^no Vulkan device: no GPU device node/);
    expect(gpuDeviceNodes(devDir('dri/renderD128'))).toEqual([join(tmp.path, 'dev', 'dri', 'renderD128')]);
  });

  it('no manifests, broken manifests, no loader', () => {
    expect(noHardwareVulkan([], [])).toBe('no Vulkan driver is installed (no ICD manifest found)');
    const bad = join(tmp.path, 'bad.json');
    writeFileSync(bad, '{ not json');
    const drivers = readVulkanDrivers([bad, join(tmp.path, 'missing.json'), manifest(tmp.path, 'nolib.json', null)]);
    expect(drivers.map((d) => d.problem)).toEqual([expect.stringMatching(/^not readable JSON/), 'no such file', 'no ICD.library_path']);
    expect(noHardwareVulkan(drivers, ['/dev/dri/renderD128'])).toMatch(/^no usable Vulkan driver manifest \(.*bad\.json: not readable JSON/);
    expect(noHardwareVulkan(readVulkanDrivers([manifest(tmp.path, 'n.json', 'libGLX_nvidia.so.0')]), ['/dev/nvidia0'], false)).toBe('no Vulkan loader (libvulkan.so.1) is installed');
  });
});

describe('vulkanLoaderPresent', () => {
  it('finds libvulkan.so.1 through LD_LIBRARY_PATH, the linker cache, or a library folder', () => {
    const lib = join(tmp.path, 'lib');
    mkdirSync(lib);
    const noCache = join(tmp.path, 'no-cache');
    expect(vulkanLoaderPresent({}, noCache, [lib])).toBe(false);
    writeFileSync(join(lib, 'libvulkan.so.1'), '');
    expect(vulkanLoaderPresent({}, noCache, [lib])).toBe(true);
    expect(vulkanLoaderPresent({ LD_LIBRARY_PATH: `/nowhere:${lib}` }, noCache, [])).toBe(true);
    const cache = join(tmp.path, 'ld.so.cache');
    writeFileSync(cache, Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from('libvulkan.so.1\0/lib/x86_64-linux-gnu/libvulkan.so.1\0')]));
    expect(vulkanLoaderPresent({}, cache, [])).toBe(true);
  });
});

describe('webgpuHardwareUnavailable', () => {
  it('is not checked on Windows and macOS (D3D12 / Metal)', () => {
    expect(webgpuHardwareUnavailable({ VK_DRIVER_FILES: join(tmp.path, 'none.json') }, 'win32')).toBeNull();
    expect(webgpuHardwareUnavailable({ VK_DRIVER_FILES: join(tmp.path, 'none.json') }, 'darwin')).toBeNull();
  });

  it.skipIf(process.platform !== 'linux' || !vulkanLoaderPresent())('on Linux reads the manifests VK_DRIVER_FILES names', () => {
    const lvp = manifest(tmp.path, 'lvp_icd.json', 'libvulkan_lvp.so');
    expect(webgpuHardwareUnavailable({ VK_DRIVER_FILES: lvp }, 'linux')).toMatch(/^only software Vulkan drivers are installed \(libvulkan_lvp\.so\)/);
    expect(webgpuHardwareUnavailable({ VK_DRIVER_FILES: join(tmp.path, 'none.json') }, 'linux')).toMatch(/^no usable Vulkan driver manifest .*none\.json: no such file/);
  });

  it.skipIf(process.platform !== 'linux' || !vulkanLoaderPresent())('remembers its answer per environment: the same env does not read the manifests again, another env does', () => {
    const lvp = manifest(tmp.path, 'lvp_icd.json', 'libvulkan_lvp.so');
    const env = { VK_DRIVER_FILES: lvp, HOME: tmp.path };
    const first = webgpuHardwareUnavailable(env, 'linux');
    expect(first).toMatch(/^only software Vulkan drivers are installed \(libvulkan_lvp\.so\)/);
    rmSync(lvp);
    // The manifest is gone: a fresh read says so, the remembered answer (same values, another object) does not.
    expect(checkWebgpuHardware(env, 'linux')).toMatch(/^no usable Vulkan driver manifest .*lvp_icd\.json: no such file/);
    expect(webgpuHardwareUnavailable({ ...env }, 'linux')).toBe(first);
    // Any variable it reads is part of the key, and so is the platform.
    expect(webgpuHardwareUnavailable({ ...env, XDG_DATA_DIRS: join(tmp.path, 'data') }, 'linux')).toMatch(/lvp_icd\.json: no such file/);
    expect(webgpuHardwareUnavailable({ ...env, LD_LIBRARY_PATH: join(tmp.path, 'lib') }, 'linux')).toMatch(/lvp_icd\.json: no such file/);
    expect(webgpuHardwareUnavailable(env, 'win32')).toBeNull();
    // Forgotten: the same env is read again.
    forgetWebgpuHardware();
    expect(webgpuHardwareUnavailable(env, 'linux')).toMatch(/lvp_icd\.json: no such file/);
  });
});
