/**
 * The committed ShapeWorld captioner (native-models/shapeworld/models/captioner, built by
 * native-models/shapeworld/train/build_captioner.sh): it opens as an Optimum VisionEncoderDecoder
 * export, its ONNX greedy captions of the reference images (re-rendered here by the TS world, as
 * PNG bytes) equal the captions torch computed before the export, and broken copies of it (decoder
 * missing, vocabulary of the wrong size) are refused naming the file.
 */
import { describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptionerLayoutError, openCaptioner, readCaptionerLayout } from '../../../native-models/captioner/index.ts';
import { sceneAt } from '../../../native-models/shapeworld/generate.ts';
import { renderScene } from '../../../native-models/shapeworld/render.ts';
import { DEFAULT_SETTINGS, mergeSettings, type SplitSettings } from '../../../native-models/shapeworld/scene.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { captionScene } from '../../../native-models/shapeworld/caption.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = path.join(REPO, 'native-models/shapeworld/models/captioner');
const have = existsSync(path.join(DIR, 'encoder_model.onnx'));

interface Reference {
  split: 'val';
  seed: number;
  settings: SplitSettings;
  size: number;
  max_new_tokens: number;
  images: Array<{ index: number; file: string; ground_truth: string; ids: number[]; caption: string }>;
}

async function withCopy<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'factorlab-captioner-sw-'));
  try {
    await cp(DIR, dir, { recursive: true });
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!have)('ShapeWorld captioner package', () => {
  const ref = have ? (JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as Reference) : (null as never);

  async function renderReference(): Promise<Buffer[]> {
    const world = mergeSettings(DEFAULT_SETTINGS, { splits: { [ref.split]: ref.settings } });
    return Promise.all(
      ref.images.map(async (im) => {
        const scene = sceneAt(ref.seed, ref.split, im.index, world);
        // the TS world regenerates the very image the reference was computed on
        expect(captionScene(scene).long).toBe(im.ground_truth);
        return renderScene(scene, ref.size);
      }),
    );
  }

  it('is the Optimum layout, found by shapeworldPackageDir, under 4 MB, with its report', () => {
    expect(shapeworldPackageDir('captioner')).toBe(DIR);
    const l = readCaptionerLayout(DIR);
    expect(l.tokens.decoderStart).toBe(l.tokens.eos[0]);
    expect(l.maxNewTokens).toBe(ref.max_new_tokens);
    expect(l.tokenizer.size).toBe(l.vocabSize);
    const files = ['encoder_model.onnx', 'decoder_model.onnx', 'config.json', 'generation_config.json', 'preprocessor_config.json', 'vocab.json', 'merges.txt'];
    const total = files.reduce((s, f) => s + statSync(path.join(DIR, f)).size, 0);
    expect(total).toBeLessThan(4 * 1024 * 1024);
    expect(readFileSync(path.join(DIR, 'merges.txt'), 'utf8')).toBe('#version: 0.2\n');
    const report = JSON.parse(readFileSync(path.join(DIR, 'train_report.json'), 'utf8'));
    expect(report.held_out_val.n).toBeGreaterThanOrEqual(1000);
    expect(report.held_out_val.slot_exact.class).toBeGreaterThan(0.7);
    expect(report.held_out_val.slot_exact.background).toBeGreaterThan(0.8);
    expect(report.seconds.train).toBeLessThan(12 * 60);
  });

  it('reproduces the torch greedy captions of the reference images (PNG bytes from the TS world)', async () => {
    const pngs = await renderReference();
    const c = await openCaptioner(DIR, { provider: 'cpu' });
    try {
      expect(c.preprocess).toMatchObject({ crop: [64, 64], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
      const got = await c.captionDetailed(pngs);
      expect(got.map((g) => g.ids)).toEqual(ref.images.map((im) => im.ids));
      expect(got.map((g) => g.text)).toEqual(ref.images.map((im) => im.caption));
      expect(got.every((g) => g.finished)).toBe(true);
      // batching does not change a row's caption
      const single: string[] = [];
      for (const p of pngs.slice(0, 4)) single.push(...(await c.caption([p])));
      expect(single).toEqual(ref.images.slice(0, 4).map((im) => im.caption));
    } finally {
      await c.close();
    }
  });

  it('describes most reference images correctly in class and background', () => {
    // a sanity check on the committed model, not a measurement (that is train_report.json's)
    const right = ref.images.filter((im) => im.caption === im.ground_truth).length;
    expect(right).toBeGreaterThanOrEqual(Math.ceil(ref.images.length / 2));
  });

  it('refuses a copy without its decoder, naming decoder_model.onnx', async () => {
    await withCopy(async (dir) => {
      await unlink(path.join(dir, 'decoder_model.onnx'));
      expect(() => readCaptionerLayout(dir)).toThrow(CaptionerLayoutError);
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/decoder \(.*decoder_model\.onnx\): missing/);
    });
  });

  it('refuses a copy whose vocabulary size does not match the logits, naming the file', async () => {
    await withCopy(async (dir) => {
      const vocabPath = path.join(dir, 'vocab.json');
      const vocab = JSON.parse(await readFile(vocabPath, 'utf8')) as Record<string, number>;
      const n = Object.keys(vocab).length;
      await writeFile(vocabPath, JSON.stringify({ ...vocab, 'Ġextra': n }));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(new RegExp(`tokenizer \\(.*vocab\\.json\\): the vocabulary has ${n + 1} tokens .*decoder_model\\.onnx outputs logits over ${n} tokens`));
      await writeFile(vocabPath, JSON.stringify(vocab));
      const cfg = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
      cfg.decoder.vocab_size = n + 5;
      await writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/config \(.*config\.json\): decoder\.vocab_size is \d+, but the decoder/);
    });
  });
});
