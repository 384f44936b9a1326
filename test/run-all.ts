// `npm test`: type-check, unit + integration tests (vitest), end-to-end tests (Playwright in
// Chromium against serve mode), then one closing line `N passed, N failed` over all of them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'test-results');
mkdirSync(out, { recursive: true });
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const only = process.argv.slice(2);
const want = (suite: string) => only.length === 0 || only.includes(suite);

let passed = 0;
let failed = 0;
let skipped = 0;

function run(cmd: string, args: string[], env: Record<string, string> = {}): number {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

if (want('typecheck')) {
  console.log('\n== type-check (main process, native-models, tests; renderer) ==');
  const a = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  const b = run(bin('tsc'), ['-p', 'renderer/tsconfig.json', '--noEmit']);
  if (a === 0 && b === 0) passed++;
  else failed++;
}

if (want('unit')) {
  console.log('\n== unit and integration tests (vitest) ==');
  const file = join(out, 'vitest.json');
  rmSync(file, { force: true });
  const code = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  if (existsSync(file)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numFailedTestSuites: number };
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numFailedTests === 0 && code !== 0 ? Math.max(1, r.numFailedTestSuites) : 0);
    skipped += r.numPendingTests;
  } else failed++;
}

if (want('e2e')) {
  console.log('\n== end-to-end tests (Playwright, Chromium, serve mode) ==');
  const build = run(process.execPath, [join(root, 'scripts', 'build.ts'), '--renderer-only']);
  const file = join(out, 'playwright.json');
  rmSync(file, { force: true });
  const code = build === 0 ? run(bin('playwright'), ['test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: file }) : 1;
  if (existsSync(file)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } };
    passed += r.stats.expected + r.stats.flaky;
    failed += r.stats.unexpected + (r.stats.unexpected === 0 && code !== 0 ? 1 : 0);
    skipped += r.stats.skipped;
  } else failed++;
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
