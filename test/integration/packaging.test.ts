// builder.yml exercised as far as this machine allows: `electron-builder --linux dir` with a
// stand-in Electron folder (the real binary cannot be downloaded here).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** File paths inside an asar archive (header: pickle-wrapped JSON tree). */
function asarFiles(file: string): Set<string> {
  const buf = readFileSync(file);
  const jsonLength = buf.readUInt32LE(12);
  const header = JSON.parse(buf.subarray(16, 16 + jsonLength).toString('utf8')) as { files: Record<string, any> };
  const out = new Set<string>();
  const walk = (node: { files?: Record<string, any> }, prefix: string) => {
    for (const [name, child] of Object.entries(node.files ?? {})) {
      const p = `${prefix}/${name}`;
      if (child.files) walk(child, p);
      else out.add(p);
    }
  };
  walk(header, '');
  return out;
}

describe('electron-builder packaging (linux dir, stand-in Electron)', () => {
  it('packs the built app with native modules and resources unpacked from asar', () => {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.ts')], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    const tmp = tempDir();
    try {
      const fake = join(tmp.path, 'electron-dist');
      mkdirSync(join(fake, 'resources'), { recursive: true });
      writeFileSync(join(fake, 'electron'), '#!/bin/sh\necho stand-in electron\n');
      chmodSync(join(fake, 'electron'), 0o755);
      writeFileSync(join(fake, 'version'), '45.4.1');
      writeFileSync(join(fake, 'LICENSE'), '');
      const out = join(tmp.path, 'out');
      const r = spawnSync(
        join(root, 'node_modules', '.bin', 'electron-builder'),
        ['--linux', 'dir', '--config', 'builder.yml', `-c.electronDist=${fake}`, '-c.electronVersion=45.4.1', `-c.directories.output=${out}`],
        { cwd: root, encoding: 'utf8', timeout: 300_000 },
      );
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const app = join(out, 'linux-unpacked');
      expect(existsSync(join(app, 'factorlab'))).toBe(true);
      const files = asarFiles(join(app, 'resources', 'app.asar'));
      for (const f of ['/dist/electron/main.js', '/dist/electron/preload.cjs', '/dist/renderer/index.html', '/package.json']) expect(files.has(f), f).toBe(true);
      expect([...files].some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('node_modules'))).toBe(false);
      const unpacked = join(app, 'resources', 'app.asar.unpacked');
      expect(existsSync(join(unpacked, 'node_modules', 'better-sqlite3', 'prebuilds', 'linux-x64.node'))).toBe(true);
      expect(existsSync(join(unpacked, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'))).toBe(true);
      expect(existsSync(join(unpacked, 'resources', 'imagenet', 'wnids.txt'))).toBe(true);
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      expect(pkg.devDependencies.electron).toBeDefined();
      expect(pkg.dependencies.electron).toBeUndefined();
    } finally {
      tmp.remove();
    }
  }, 300_000);
});
