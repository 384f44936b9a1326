/**
 * The Optimum VisionEncoderDecoder layout on a synthetic package shaped like
 * nlpconnect/vit-gpt2-image-captioning's export (GPT-2 ids: decoder start = EOS = PAD = 50256,
 * vocabulary 50257, a ViTFeatureExtractor config at 224 x 224): real ONNX graphs built in-process
 * (a slicing encoder, a decoder that emits a scripted sentence), the GPT-2 vocabulary fragment of
 * test/fixtures/captioner. Then the preprocessor-config mapping and the errors for a wrong layout.
 */
import { describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CaptionerLayoutError, openCaptioner, readCaptionerLayout, specFromPreprocessorConfig, PreprocessorConfigError } from '../../../native-models/captioner/index.ts';
import { writeScriptDecoder, writeSliceEncoder } from './helpers.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FRAG = path.join(REPO, 'test/fixtures/captioner/gpt2-fragment');
const EOT = 50256;
// "The cat sat on the mat." then EOS, in the fragment's GPT-2 ids
const SENTENCE = [464, 3797, 3332, 319, 262, 2603, 13];

const CONFIG = {
  architectures: ['VisionEncoderDecoderModel'],
  model_type: 'vision-encoder-decoder',
  decoder_start_token_id: EOT,
  eos_token_id: EOT,
  pad_token_id: EOT,
  is_encoder_decoder: true,
  decoder: { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, bos_token_id: EOT, eos_token_id: EOT, add_cross_attention: true },
  encoder: { model_type: 'vit', image_size: 224, hidden_size: 8 },
};
const PREPROCESSOR = { do_normalize: true, do_resize: true, feature_extractor_type: 'ViTFeatureExtractor', image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 2, size: 224 };

async function makePackage(dir: string, opts: { encoderWidth?: number; script?: number[] } = {}): Promise<void> {
  await writeSliceEncoder(path.join(dir, 'encoder_model.onnx'), { size: 224, width: opts.encoderWidth ?? 8 });
  await writeScriptDecoder(path.join(dir, 'decoder_model.onnx'), { vocab: 50257, width: 8, script: opts.script ?? [...SENTENCE, EOT] });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(CONFIG));
  await writeFile(path.join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: EOT, bos_token_id: EOT, eos_token_id: EOT, pad_token_id: EOT, max_length: 9 }));
  await writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify(PREPROCESSOR));
  await copyFile(path.join(FRAG, 'vocab.json'), path.join(dir, 'vocab.json'));
  await copyFile(path.join(FRAG, 'merges.txt'), path.join(dir, 'merges.txt'));
}

async function withPackage<T>(fn: (dir: string) => Promise<T>, opts: { encoderWidth?: number; script?: number[] } = {}): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'factorlab-captioner-'));
  try {
    await makePackage(dir, opts);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const png = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();

describe('captioner layout (Optimum VisionEncoderDecoder, GPT-2 ids)', () => {
  it('reads the ids, the generation length and the preprocessing from the JSON files', async () => {
    await withPackage(async (dir) => {
      const l = readCaptionerLayout(dir);
      expect(l.tokens).toEqual({ decoderStart: EOT, eos: [EOT], bos: EOT, pad: EOT });
      expect(l.vocabSize).toBe(50257);
      expect(l.maxPositions).toBe(1024);
      expect(l.maxNewTokens).toBe(8); // max_length 9 counts the decoder start token
      expect(l.tokenizer.size).toBe(50257);
      expect(l.ignored).toEqual([]);
    });
  });

  it('captions with greedy decoding, stops at EOS, and decodes the GPT-2 ids', async () => {
    await withPackage(async (dir) => {
      const c = await openCaptioner(dir, { provider: 'cpu' });
      try {
        expect(c.preprocess).toMatchObject({ resize_shorter: null, crop: [224, 224], interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
        const imgs = [await png(300, 200), await png(64, 64), await png(224, 224)];
        expect(await c.caption(imgs)).toEqual(['The cat sat on the mat.', 'The cat sat on the mat.', 'The cat sat on the mat.']);
        const d = await c.captionDetailed(imgs.slice(0, 1));
        expect(d[0]).toEqual({ ids: SENTENCE, finished: true, text: 'The cat sat on the mat.' });
        // maxTokens cuts the sentence; the row is reported unfinished
        expect(await c.captionDetailed(imgs.slice(0, 1), { maxTokens: 3 })).toEqual([{ ids: SENTENCE.slice(0, 3), finished: false, text: 'The cat sat' }]);
        await expect(c.caption(imgs, { maxTokens: 2000 })).rejects.toThrow(/1024 positions/);
        await expect(c.caption([Buffer.from('not an image')])).rejects.toThrow(/image 0: not an image/);
        expect(await c.caption([])).toEqual([]);
      } finally {
        await c.close();
      }
      await expect(c.caption([await png(8, 8)])).rejects.toThrow(/closed/);
    });
  });

  it('finds the ONNX files in an onnx/ subfolder (transformers.js layout) and ignores with-past decoders', async () => {
    await withPackage(async (dir) => {
      await mkdir(path.join(dir, 'onnx'));
      for (const f of ['encoder_model.onnx', 'decoder_model.onnx']) {
        await copyFile(path.join(dir, f), path.join(dir, 'onnx', f));
        await unlink(path.join(dir, f));
      }
      await writeFile(path.join(dir, 'onnx', 'decoder_model_merged.onnx'), 'unused');
      const l = readCaptionerLayout(dir);
      expect(l.files.decoder).toBe(path.join(dir, 'onnx', 'decoder_model.onnx'));
      expect(l.ignored).toEqual([path.join(dir, 'onnx', 'decoder_model_merged.onnx')]);
      const c = await openCaptioner(dir, { provider: 'cpu' });
      expect(await c.caption([await png(32, 32)])).toEqual(['The cat sat on the mat.']);
      await c.close();
    });
  });

  it('refuses a missing decoder, naming decoder_model.onnx (and the merged-only case)', async () => {
    await withPackage(async (dir) => {
      await unlink(path.join(dir, 'decoder_model.onnx'));
      expect(() => readCaptionerLayout(dir)).toThrow(CaptionerLayoutError);
      expect(() => readCaptionerLayout(dir)).toThrow(/decoder \(.*decoder_model\.onnx\): missing/);
      await writeFile(path.join(dir, 'decoder_model_merged.onnx'), 'x');
      expect(() => readCaptionerLayout(dir)).toThrow(/found only decoder_model_merged\.onnx.*--task image-to-text/);
    });
  });

  it('refuses other missing parts, naming the file', async () => {
    for (const [file, re] of [
      ['encoder_model.onnx', /encoder \(.*encoder_model\.onnx\): missing/],
      ['config.json', /config \(.*config\.json\): missing/],
      ['preprocessor_config.json', /preprocessor config \(.*preprocessor_config\.json\): missing/],
      ['vocab.json', /tokenizer vocabulary \(.*vocab\.json\): missing/],
      ['merges.txt', /tokenizer merges \(.*merges\.txt\): missing/],
    ] as const) {
      await withPackage(async (dir) => {
        await unlink(path.join(dir, file));
        expect(() => readCaptionerLayout(dir), file).toThrow(re);
      });
    }
    expect(() => readCaptionerLayout(path.join(tmpdir(), 'no-such-captioner'))).toThrow(/not a folder/);
  });

  it('refuses a config without start or end ids, naming config.json', async () => {
    await withPackage(async (dir) => {
      await unlink(path.join(dir, 'generation_config.json'));
      const { decoder_start_token_id: _s, eos_token_id: _e, ...rest } = CONFIG;
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...rest, decoder: { vocab_size: 50257 } }));
      expect(() => readCaptionerLayout(dir)).toThrow(/config \(.*config\.json\): no decoder_start_token_id/);
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...rest, decoder_start_token_id: EOT, decoder: { vocab_size: 50257 } }));
      expect(() => readCaptionerLayout(dir)).toThrow(/config \(.*config\.json\): no eos_token_id/);
      await writeFile(path.join(dir, 'config.json'), '{ not json');
      expect(() => readCaptionerLayout(dir)).toThrow(/config \(.*config\.json\): not valid JSON/);
    });
  });

  it('refuses an encoder whose output width does not match the decoder, naming both files', async () => {
    await withPackage(
      async (dir) => {
        await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/decoder_model\.onnx\): encoder_hidden_states takes width 8, but the encoder .*encoder_model\.onnx outputs last_hidden_state of width 4/);
      },
      { encoderWidth: 4 },
    );
  });

  it('refuses a vocabulary whose size does not match the logits, naming the file', async () => {
    await withPackage(async (dir) => {
      // config.json says another vocabulary size
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...CONFIG, decoder: { ...CONFIG.decoder, vocab_size: 50000 } }));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/config \(.*config\.json\): decoder\.vocab_size is 50000, but the decoder .*decoder_model\.onnx outputs logits over 50257 tokens/);
      // the tokenizer has a token past the logits
      await writeFile(path.join(dir, 'config.json'), JSON.stringify(CONFIG));
      await writeFile(path.join(dir, 'vocab.json'), JSON.stringify({ a: 64, '<|endoftext|>': 50256, extra: 50257 }));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/tokenizer \(.*vocab\.json\): the vocabulary has 50258 tokens .* logits over 50257 tokens/);
      // ... or is smaller than the logits without config.json saying the vocabulary is padded
      await writeFile(path.join(dir, 'vocab.json'), JSON.stringify({ a: 64, '<|endoftext|>': 50255 }));
      const { vocab_size: _v, ...decoder } = CONFIG.decoder;
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...CONFIG, decoder }));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/vocab\.json\): the vocabulary has 50256 tokens/);
    });
  });

  it('refuses a preprocessor config whose image size is not the encoder input, naming both', async () => {
    await withPackage(async (dir) => {
      await writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ ...PREPROCESSOR, size: 384 }));
      await expect(openCaptioner(dir, { provider: 'cpu' })).rejects.toThrow(/preprocessor_config\.json\): gives 384x384 images but the encoder takes 224x224 .*encoder_model\.onnx/);
      await writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ ...PREPROCESSOR, image_std: [0.5, 0, 0.5] }));
      expect(() => readCaptionerLayout(dir)).toThrow(/preprocessor_config\.json\): image_std values must be > 0/);
    });
  });
});

describe('specFromPreprocessorConfig', () => {
  const F = 'preprocessor_config.json';
  it('maps ViT, CLIP-style and old feature-extractor configs', () => {
    expect(specFromPreprocessorConfig({ size: { height: 384, width: 384 }, resample: 3, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], rescale_factor: 1 / 255 }, F).spec).toMatchObject({
      resize_shorter: null, crop: [384, 384], interpolation: 'bicubic',
    });
    const clip = specFromPreprocessorConfig({ do_resize: true, size: { shortest_edge: 224 }, do_center_crop: true, crop_size: { height: 224, width: 224 }, resample: 3, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711] }, F);
    expect(clip.spec).toMatchObject({ resize_shorter: 224, crop: [224, 224], interpolation: 'bicubic', mean: [0.48145466, 0.4578275, 0.40821073] });
    expect(specFromPreprocessorConfig({ size: 256, do_center_crop: true, crop_size: 224, image_mean: 0.5, image_std: 0.5 }, F).spec).toMatchObject({ resize_shorter: 256, crop: [224, 224], mean: [0.5, 0.5, 0.5] });
    expect(specFromPreprocessorConfig({ size: 32, do_normalize: false }, F).spec).toMatchObject({ mean: [0, 0, 0], std: [1, 1, 1] });
    const lanczos = specFromPreprocessorConfig({ size: 32, resample: 1, do_normalize: false }, F);
    expect(lanczos.notes.join()).toMatch(/Lanczos/);
  });

  it('folds a rescale factor other than 1/255 into mean and std', () => {
    // no rescale: the model sees 0..255, normalised by mean 127.5 std 127.5 = (v/255 - 0.5) / 0.5
    const s = specFromPreprocessorConfig({ size: 16, do_rescale: false, image_mean: [127.5, 127.5, 127.5], image_std: [127.5, 127.5, 127.5] }, F).spec;
    expect(s.mean.map((v) => +v.toFixed(9))).toEqual([0.5, 0.5, 0.5]);
    expect(s.std.map((v) => +v.toFixed(9))).toEqual([0.5, 0.5, 0.5]);
    // rescale to 0..2 then mean 1 std 1: (2 v/255 - 1) = (v/255 - 0.5) / 0.5
    const r = specFromPreprocessorConfig({ size: 16, rescale_factor: 2 / 255, image_mean: [1, 1, 1], image_std: [1, 1, 1] }, F).spec;
    expect(r.mean.map((v) => +v.toFixed(9))).toEqual([0.5, 0.5, 0.5]);
    expect(r.std.map((v) => +v.toFixed(9))).toEqual([0.5, 0.5, 0.5]);
  });

  it('uses the encoder input size when do_resize is false, and refuses what it cannot express', () => {
    expect(specFromPreprocessorConfig({ do_resize: false, do_normalize: false }, F, [64, 64]).spec.crop).toEqual([64, 64]);
    expect(() => specFromPreprocessorConfig({ do_resize: false, do_normalize: false }, F)).toThrow(PreprocessorConfigError);
    expect(() => specFromPreprocessorConfig({ size: { shortest_edge: 224 }, do_normalize: false }, F)).toThrow(/varying size/);
    expect(() => specFromPreprocessorConfig({ size: 'big' }, F)).toThrow(/preprocessor_config\.json: size "big"/);
    expect(() => specFromPreprocessorConfig({ size: 32 }, F)).toThrow(/image_mean \/ image_std are missing/);
    expect(() => specFromPreprocessorConfig({ size: 32, resample: 9, do_normalize: false }, F)).toThrow(/resample 9/);
  });
});
