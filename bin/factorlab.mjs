#!/usr/bin/env node
// CLI entry: runs electron/cli.ts on the supported Node (re-executing under .node/ if needed).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, envWithNode, supportedNode } from '../scripts/node-version.mjs';

const node = supportedNode();
if (!node) {
  console.error(`factorlab: Node ${process.version} is too old and no local Node 22 was found. Run \`npm run setup\` in ${ROOT}.`);
  process.exit(1);
}
if (node === process.execPath) {
  const { main } = await import('../electron/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
} else {
  const r = spawnSync(node, [join(ROOT, 'bin', 'factorlab.mjs'), ...process.argv.slice(2)], { stdio: 'inherit', env: envWithNode(node) });
  process.exit(r.status ?? 1);
}
