// Is there a hardware Vulkan driver for onnxruntime's WebGPU provider (Dawn on Vulkan, Linux)?
//
// Read from the Vulkan loader's driver (ICD) manifests, without loading Vulkan: a manifest is a JSON
// file naming the driver library in ICD.library_path. Software drivers (Mesa's lavapipe/llvmpipe,
// SwiftShader) run WebGPU on the CPU, slower than onnxruntime's CPU provider, so `auto` skips them.
// Mesa's package installs manifests for all its hardware drivers (intel, radeon, virtio, ...) on
// machines without any GPU, so a hardware manifest only counts when a GPU device node exists too
// (/dev/dri/renderD*, /dev/nvidia0.., /dev/dxg on WSL).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

export interface VulkanDriver {
  manifest: string;
  /** ICD.library_path as written, or null when the manifest cannot be read or has none. */
  library: string | null;
  software: boolean;
  /** Why the manifest could not be used, when it could not. */
  problem?: string;
}

const SOFTWARE_LIBRARY = /lvp|lavapipe|swiftshader|llvmpipe/i;

/** The software drivers: lavapipe (libvulkan_lvp.so), llvmpipe, SwiftShader (libvk_swiftshader.so). */
export function isSoftwareDriverLibrary(library: string): boolean {
  return SOFTWARE_LIBRARY.test(basename(library));
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.length > 0);
}

function jsonFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function expand(paths: string[]): string[] {
  return paths.flatMap((p) => {
    try {
      return statSync(p).isDirectory() ? jsonFilesIn(p) : [p];
    } catch {
      return [p]; // a named file that does not exist: reported as a problem by readVulkanDrivers
    }
  });
}

/** The manifest files the loader would read, in the loader's way: VK_DRIVER_FILES (or the older
 * VK_ICD_FILENAMES) replaces the search; otherwise the XDG config/data folders, /etc and
 * /usr[/local]/share's vulkan/icd.d, plus VK_ADD_DRIVER_FILES. Entries may be folders. */
export function findIcdManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = splitList(env.VK_DRIVER_FILES).length ? splitList(env.VK_DRIVER_FILES) : splitList(env.VK_ICD_FILENAMES);
  if (override.length) return expand(override);
  const configDirs = splitList(env.XDG_CONFIG_DIRS).length ? splitList(env.XDG_CONFIG_DIRS) : ['/etc/xdg'];
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  const dataDirs = splitList(env.XDG_DATA_DIRS).length ? splitList(env.XDG_DATA_DIRS) : ['/usr/local/share', '/usr/share'];
  const dirs = [...configDirs.map((d) => join(d, 'vulkan', 'icd.d')), '/etc/vulkan/icd.d', join(dataHome, 'vulkan', 'icd.d'), ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))];
  for (const d of ['/usr/local/share', '/usr/share']) if (!dirs.includes(join(d, 'vulkan', 'icd.d'))) dirs.push(join(d, 'vulkan', 'icd.d'));
  const seen = new Set<string>();
  return [...dirs.flatMap(jsonFilesIn), ...expand(splitList(env.VK_ADD_DRIVER_FILES))].filter((p) => !seen.has(p) && (seen.add(p), true));
}

/** Reads each manifest's ICD.library_path. */
export function readVulkanDrivers(manifests: string[]): VulkanDriver[] {
  return manifests.map((manifest): VulkanDriver => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(manifest, 'utf8'));
    } catch (err) {
      return { manifest, library: null, software: false, problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not readable JSON: ${(err as Error).message}` };
    }
    const icd = (json as { ICD?: { library_path?: unknown } } | null)?.ICD;
    const library = typeof icd?.library_path === 'string' && icd.library_path ? icd.library_path : null;
    if (library === null) return { manifest, library: null, software: false, problem: 'no ICD.library_path' };
    return { manifest, library, software: isSoftwareDriverLibrary(library) };
  });
}

/** GPU device nodes that a hardware Vulkan driver would open. */
export function gpuDeviceNodes(devDir = '/dev'): string[] {
  const nodes: string[] = [];
  for (const f of listDir(join(devDir, 'dri'))) if (/^renderD\d+$/.test(f)) nodes.push(join(devDir, 'dri', f));
  for (const f of listDir(devDir)) if (/^nvidia\d+$/.test(f) || f === 'dxg') nodes.push(join(devDir, f));
  return nodes;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Whether the Vulkan loader library (libvulkan.so.1) can be found: LD_LIBRARY_PATH, the dynamic
 * linker's cache, then the usual library folders. */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env, ldCache = '/etc/ld.so.cache', libDirs?: string[]): boolean {
  const name = 'libvulkan.so.1';
  for (const d of splitList(env.LD_LIBRARY_PATH)) if (existsSync(join(d, name))) return true;
  try {
    if (readFileSync(ldCache).includes(name)) return true;
  } catch {
    // no cache: look in the folders
  }
  const dirs = libDirs ?? ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`];
  return dirs.some((d) => existsSync(join(d, name)));
}

/** Why there is no hardware Vulkan driver, or null when there is one. Pure over its inputs. */
export function noHardwareVulkan(drivers: VulkanDriver[], deviceNodes: string[], loaderPresent = true): string | null {
  if (!loaderPresent) return 'no Vulkan loader (libvulkan.so.1) is installed';
  const usable = drivers.filter((d) => d.library !== null);
  if (usable.length === 0) {
    if (drivers.length === 0) return 'no Vulkan driver is installed (no ICD manifest found)';
    return `no usable Vulkan driver manifest (${drivers.map((d) => `${d.manifest}: ${d.problem}`).join('; ')})`;
  }
  const hardware = usable.filter((d) => !d.software);
  const software = usable.filter((d) => d.software).map((d) => basename(d.library!));
  const slower = 'WebGPU on them is slower than the CPU provider';
  if (hardware.length === 0) return `only software Vulkan drivers are installed (${software.join(', ')}): ${slower}`;
  if (deviceNodes.length === 0) {
    const noDevice = `no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg) for the hardware drivers ${hardware.map((d) => basename(d.library!)).join(', ')}`;
    return software.length ? `only software Vulkan drivers can run (${software.join(', ')}; ${noDevice}): ${slower}` : `no Vulkan device: ${noDevice}`;
  }
  return null;
}

/** The check `auto` makes before trying WebGPU on this machine, read afresh: null = try it. Windows
 * and macOS run WebGPU on D3D12 / Metal, so only Linux (and other Vulkan platforms) are checked. */
export function checkWebgpuHardware(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'win32' || platform === 'darwin') return null;
  if (!vulkanLoaderPresent(env)) return noHardwareVulkan([], [], false);
  return noHardwareVulkan(readVulkanDrivers(findIcdManifests(env)), gpuDeviceNodes());
}

/** The environment variables checkWebgpuHardware reads (the loader's search, its XDG folders and
 * HOME, LD_LIBRARY_PATH for libvulkan.so.1): with the platform, the key of its remembered answers. */
const WEBGPU_ENV_KEYS = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES', 'XDG_CONFIG_DIRS', 'XDG_DATA_HOME', 'XDG_DATA_DIRS', 'HOME', 'LD_LIBRARY_PATH'] as const;
const WEBGPU_MEMO_MAX = 32;
const webgpuMemo = new Map<string, string | null>();

/**
 * checkWebgpuHardware, remembered for the process: every model session under 'auto' asks, and the
 * answer only changes with the environment it reads (part of the key, so a caller passing its own
 * env gets its own answer) or with drivers installed or GPUs attached while the app runs (call
 * forgetWebgpuHardware, or restart). At most WEBGPU_MEMO_MAX environments are kept.
 */
export function webgpuHardwareUnavailable(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  const key = JSON.stringify([platform, ...WEBGPU_ENV_KEYS.map((k) => env[k] ?? null)]);
  if (webgpuMemo.has(key)) return webgpuMemo.get(key) ?? null;
  const answer = checkWebgpuHardware(env, platform);
  if (webgpuMemo.size >= WEBGPU_MEMO_MAX) webgpuMemo.delete(webgpuMemo.keys().next().value!);
  webgpuMemo.set(key, answer);
  return answer;
}

/** Drops webgpuHardwareUnavailable's remembered answers (the next call reads the manifests again). */
export function forgetWebgpuHardware(): void {
  webgpuMemo.clear();
}
