import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashDiffusionModel } from '../../../native-models/diffusion/generate-files.ts';

const MODEL = new URL('../../fixtures/diffusion/tiny-sd', import.meta.url).pathname;

describe('diffusion model hash', () => {
  it('changes with the UNet external weights, not only with the graph file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-hash-'));
    try {
      cpSync(MODEL, dir, { recursive: true });
      const before = await hashDiffusionModel(dir);
      expect(before.of).toContain('unet/weights.pb');
      expect(await hashDiffusionModel(dir)).toEqual(before);
      const w = join(dir, 'unet', 'weights.pb');
      const b = readFileSync(w);
      b[b.length >> 1] ^= 1;
      writeFileSync(w, b);
      const after = await hashDiffusionModel(dir);
      expect(after.sha256).not.toBe(before.sha256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
