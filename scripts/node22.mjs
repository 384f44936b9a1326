#!/usr/bin/env node
// Runs a command with the supported Node first on PATH (see node-version.mjs).
import { spawnSync } from 'node:child_process';
import { envWithNode, supportedNode } from './node-version.mjs';

const node = supportedNode();
if (!node) {
  console.error(`FactorLab needs Node 22.18 or newer in the 22 line; this is ${process.version}. Run \`npm run setup\` first: it fetches Node 22 from the npm registry into .node/.`);
  process.exit(1);
}
const [cmd, ...args] = process.argv.slice(2);
const result = spawnSync(cmd === 'node' ? node : cmd, args, { stdio: 'inherit', env: envWithNode(node) });
if (result.error) {
  console.error(`could not start ${cmd}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
