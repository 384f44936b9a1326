// The committed ShapeWorld text-to-image package (native-models/shapeworld/models/diffusion) goes
// through the same loaders as any Stable Diffusion export and reproduces the torch outputs the
// training script stored before exporting (reference.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionPipeline, readDiffusionLayout } from '../../../native-models/diffusion/index.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { openClip } from '../../../native-models/clip/open.ts';
import { zeroShotClassifier, zeroShotFromEmbeddings } from '../../../native-models/clip/zero-shot.ts';
import { decodeBatch } from '../../../native-models/preprocess/decode.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { writeFileSync } from 'node:fs';

const DIR = shapeworldPackageDir('diffusion');
const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as {
  prompt: string;
  ids: number[];
  pad_id: number;
  timestep: number;
  latent: number[];
  unet_out_sample: number[];
  vae_decoder_sample_first64: number[];
  vae_decoder_sample_mean: number;
  scaling_factor: number;
};

function worstRel(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  return worst;
}

let pipe: DiffusionPipeline;
beforeAll(async () => {
  pipe = await DiffusionPipeline.load(DIR, { provider: 'cpu', intraOpThreads: 1 });
});
afterAll(async () => {
  await pipe?.release();
});

describe('ShapeWorld diffusion package', () => {
  it('is a Stable Diffusion layout: the validator accepts it and reads SD 1.x settings', () => {
    const layout = readDiffusionLayout(DIR);
    expect(layout.schedulerClass).toBe('DDIMScheduler');
    expect(layout.tokenizer).toEqual({ padToken: '!', maxLength: 77 });
    expect(layout.vae.scalingFactor).toBeCloseTo(ref.scaling_factor, 6);
    expect(layout.unet).toMatchObject({ inChannels: 4, crossAttentionDim: 128 });
    expect(layout.unet.sampleSize! * layout.vae.scaleFactor!).toBe(64);
    expect(layout.files.vaeEncoder).not.toBeNull();
    expect(pipe.defaultSize()).toEqual({ width: 64, height: 64 });
    expect(pipe.padId).toBe(ref.pad_id);
  });

  it('tokenizes as the training script did and reproduces torch (text encoder ONNX -> UNet -> VAE decoder)', async () => {
    const [ids] = pipe.tokenize([ref.prompt]);
    expect(ids!.slice(0, ref.ids.length)).toEqual(ref.ids);
    expect(ids!.slice(ref.ids.length).every((x) => x === ref.pad_id)).toBe(true);
    const enc = await pipe.encodeText([ids!]);
    expect(enc.hidden).toBe(128);
    const lat = Float32Array.from(ref.latent);
    const side = Math.round(Math.sqrt(lat.length / 4));
    const out = await pipe.runUnet(lat, [1, 4, side, side], ref.timestep, enc.data, enc.hidden);
    expect(worstRel(out, ref.unet_out_sample)).toBeLessThan(1e-4);
    const dec = await pipe.decode(lat, [1, 4, side, side]);
    expect(dec.dims).toEqual([1, 3, 64, 64]);
    expect(worstRel(dec.data.subarray(0, 64), ref.vae_decoder_sample_first64)).toBeLessThan(1e-4);
    const mean = dec.data.reduce((s, v) => s + v, 0) / dec.data.length;
    expect(Math.abs(mean - ref.vae_decoder_sample_mean)).toBeLessThan(1e-4);
  });

  it('generates 64x64 images that the ShapeWorld CLIP sees as the prompted class and background', async () => {
    const prompts = ['a photo of a house on snow', 'a photo of a heart on grass', 'a photo of a cup on sand', 'a photo of a key in water'];
    const truth = [['house', 'snow'], ['heart', 'grass'], ['cup', 'sand'], ['key', 'water']];
    const r = await pipe.generate({ prompts, n: 2, seed: 3, steps: 20, guidance: 5 });
    expect(r.images).toHaveLength(8);
    const meta = await sharp(r.images[0]!.png).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([64, 64, 3]);
    const tmp = tempDir('fl-swdiff-');
    const clip = await openClip(shapeworldPackageDir('clip'), { provider: 'cpu' });
    try {
      const files = r.images.map((img, i) => {
        const f = join(tmp.path, `${i}.png`);
        writeFileSync(f, img.png);
        return f;
      });
      const { tensor } = await decodeBatch(files, clip.manifest.preprocess, undefined, 2);
      const emb = await clip.encodeImages(tensor, files.length);
      const classes = ['star', 'heart', 'house', 'tree', 'fish', 'car', 'cup', 'key', 'arrow', 'umbrella'];
      const bgs = JSON.parse(readFileSync(new URL('../../../resources/shapeworld/backgrounds.json', import.meta.url), 'utf8')).backgrounds as { name: string; phrase: string }[];
      const zc = zeroShotFromEmbeddings(await zeroShotClassifier(clip, classes, ['a photo of a {}', 'a photo of the {}']), emb, files.length);
      const zb = zeroShotFromEmbeddings(await zeroShotClassifier(clip, bgs.map((b) => b.phrase), ['a photo of something {}']), emb, files.length);
      let cls = 0;
      let bg = 0;
      r.images.forEach((_, i) => {
        const [c, b] = truth[Math.floor(i / 2)]!;
        if (classes[zc.predictions[i]!] === c) cls++;
        if (bgs[zb.predictions[i]!]!.name === b) bg++;
      });
      // train_report.json has the package's measured rates over 320 images (background 86 %, class
      // 24 %: below the 80 % bar). 8 images: floors
      // under those rates; a model that ignored the prompt would get about 1/8 of the backgrounds.
      expect(bg).toBeGreaterThanOrEqual(4);
      expect(cls).toBeGreaterThanOrEqual(1);
    } finally {
      await clip.close();
      tmp.remove();
    }
  });
});
