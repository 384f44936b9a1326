import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPreprocessFile, specFromTimmConfig } from '../../../native-models/preprocess/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('preprocessing from a file', () => {
  it("follows timm's eval transform: shorter side floor(size / crop_pct), centre crop", () => {
    // timm convnext_atto: 224, crop_pct 0.875, bicubic -> Resize(256) + CenterCrop(224)
    expect(specFromTimmConfig({ input_size: [3, 224, 224], interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop_pct: 0.875 })).toMatchObject({
      resize_shorter: 256,
      crop: [224, 224],
      interpolation: 'bicubic',
    });
    // timm resnet18 (a1 weights): crop_pct 0.95 -> floor(235.78) = 235
    expect(specFromTimmConfig({ input_size: [3, 224, 224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop_pct: 0.95 }).resize_shorter).toBe(235);
    // crop_pct 1.0 keeps the size
    expect(specFromTimmConfig({ input_size: [3, 384, 384], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], crop_pct: 1 }).resize_shorter).toBe(384);
  });

  it('reads a Hugging Face config.json, a bare pretrained_cfg and a FactorLab spec, and names the file on error', () => {
    const d = tempDir();
    try {
      const hub = join(d.path, 'config.json');
      writeFileSync(hub, JSON.stringify({ architecture: 'vit_tiny_patch16_224', pretrained_cfg: { input_size: [3, 224, 224], interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], crop_pct: 0.9 } }));
      expect(readPreprocessFile(hub)).toMatchObject({ resize_shorter: 248, mean: [0.5, 0.5, 0.5] });
      const own = join(d.path, 'own.json');
      writeFileSync(own, JSON.stringify({ resize_shorter: null, crop: [64, 64], interpolation: 'bilinear', mean: [0, 0, 0], std: [1, 1, 1], channel_order: 'BGR', layout: 'NCHW' }));
      expect(readPreprocessFile(own).channel_order).toBe('BGR');
      const bad = join(d.path, 'bad.json');
      writeFileSync(bad, JSON.stringify({ input_size: [3, 224] }));
      expect(() => readPreprocessFile(bad)).toThrow(/bad\.json: neither a FactorLab preprocess spec nor a timm pretrained config/);
    } finally {
      d.remove();
    }
  });
});
