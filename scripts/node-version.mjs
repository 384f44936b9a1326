// Which Node runs FactorLab: the pinned release, fetched from the npm registry into .node/ when the
// machine's own Node is older (better-sqlite3 13 needs Node 22; type stripping needs 22.18).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINNED_NODE = '22.23.3';
export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const LOCAL_NODE_DIR = join(ROOT, '.node');
export const LOCAL_NODE_BIN = join(LOCAL_NODE_DIR, 'bin');

export function versionIsSupported(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major === 22 && minor >= 18;
}

/** Absolute path of a supported node binary, or null when setup has not fetched one yet. */
export function supportedNode() {
  if (versionIsSupported(process.versions.node)) return process.execPath;
  const local = join(LOCAL_NODE_BIN, 'node');
  return existsSync(local) ? local : null;
}

export function envWithNode(nodePath, extra = {}) {
  const sep = process.platform === 'win32' ? ';' : ':';
  const path = [dirname(nodePath), join(ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(sep);
  return { ...process.env, PATH: path, ...extra };
}
