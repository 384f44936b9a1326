// `npm run bench:gpu` at its CPU smoke size, so the GPU bench cannot rot on machines without a GPU:
// runs test/bench/gpu-bench.ts --tiny --provider cpu --json as a subprocess and checks that both
// models were measured on the FactorLab side (and on the PyTorch side, with the ratio being the
// quotient). The exports need python torch: without /usr/bin/python3 + torch (Debian python3-torch,
// python3-torchvision) the test is skipped with the reason printed. The exports are kept in a fixed
// folder under the OS temp dir and reused by later runs (the bench exports only what is missing).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const OUT = join(tmpdir(), 'factorlab-bench-gpu-exports');

function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} cannot import torch/torchvision: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
  return null;
}

const missing = torchMissing();
if (missing) console.log(`bench-gpu test skipped: the ONNX exports need python torch (${missing})`);

interface Timing {
  imagesPerSecond: number;
  msPerBatch: number;
}
interface Row {
  model: string;
  precision: string;
  provider: string | null;
  factorlab: Timing | null;
  factorlabError?: string;
  pytorch: (Timing & { device: string; dtype: string }) | null;
  pytorchNote: string | null;
  ratio: number | null;
}

const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('npm run bench:gpu --tiny on the CPU', () => {
  it.skipIf(missing !== null)('measures ResNet-50 and CLIP ViT-B/32 with FactorLab and PyTorch', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'test', 'bench', 'gpu-bench.ts'), '--tiny', '--provider', 'cpu', '--json', '--out', OUT, '--python', PYTHON], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 64 << 20,
    });
    console.log(`bench:gpu --tiny took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { requestedProvider: string; rows: Row[]; diffusion: { provider?: string; msPerStep?: number; stepsPerSecond?: number; error?: string }; errors: string[] };
    expect(j.requestedProvider).toBe('cpu');
    expect(j.errors).toEqual([]);
    for (const model of ['resnet50', 'clip-vit-b32']) {
      const rows = j.rows.filter((row) => row.model === model);
      expect(rows.length, `rows for ${model}`).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.factorlabError).toBeUndefined();
        expect(row.provider).toBe('cpu');
        expect(positive(row.factorlab?.imagesPerSecond), JSON.stringify(row.factorlab)).toBe(true);
        // torch is importable here (else the test is skipped), so the PyTorch side must be there.
        expect(row.pytorchNote).toBeNull();
        expect(row.pytorch?.device).toBe('cpu');
        expect(positive(row.pytorch?.imagesPerSecond), JSON.stringify(row.pytorch)).toBe(true);
        expect(row.ratio).toBeCloseTo(row.factorlab!.imagesPerSecond / row.pytorch!.imagesPerSecond, 10);
      }
      console.log(rows.map((row) => `${row.model} ${row.precision}: FactorLab ${row.factorlab!.imagesPerSecond.toFixed(2)} vs PyTorch ${row.pytorch!.imagesPerSecond.toFixed(2)} images/s = ${row.ratio!.toFixed(3)}x`).join('\n'));
    }
    expect(j.diffusion.error).toBeUndefined();
    expect(j.diffusion.provider).toBe('cpu');
    expect(positive(j.diffusion.msPerStep)).toBe(true);
    expect(j.diffusion.stepsPerSecond).toBeCloseTo(1000 / j.diffusion.msPerStep!, 10);
  }, 240_000);

  // Runs everywhere, CI without torch included: the node side alone, with no exports to measure.
  it('without torch: says why, still times the UNet step, and exits 0', () => {
    const empty = mkdtempSync(join(tmpdir(), 'factorlab-bench-gpu-empty-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'test', 'bench', 'gpu-bench.ts'), '--tiny', '--provider', 'cpu', '--json', '--no-torch', '--out', empty], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { rows: Row[]; diffusion: { provider?: string; msPerStep?: number }; errors: string[] };
      expect(j.errors.join('\n')).toMatch(/cannot export the models \(--no-torch given\)/);
      for (const row of j.rows) expect(row.factorlabError).toMatch(/does not exist/);
      expect(j.diffusion.provider).toBe('cpu');
      expect(positive(j.diffusion.msPerStep)).toBe(true);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
