// Running a CLIP package: preprocessed images -> image embeddings, texts -> (tokenizer) -> text
// embeddings. Input/output names come from the manifest (open_clip, Optimum and the ShapeWorld
// CLIP name them differently).
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { loadModelPackage, ModelPackageError } from '../manifest/load.ts';
import type { ClipManifest } from '../manifest/schema.ts';
import { createSession, type Provider, type ProviderFallback, type ProviderRequest } from '../runtime/session.ts';
import { ClipTokenizer } from './tokenizer/index.ts';
import { fromFloat16, toFloat16 } from '../diffusion/float16.ts';

/** A float output as float32 (float16 from a half-precision export is widened), or null for another type. */
function floatData(t: ort.Tensor): Float32Array | null {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return fromFloat16(t.data as unknown as Uint16Array);
  return null;
}

export interface OpenClipOptions {
  provider?: ProviderRequest;
  intraOpThreads?: number;
  /** Check the ONNX files' sha256 against the manifest where it lists them (default true). */
  verifyHash?: boolean;
  /** Texts per text-encoder call (default 64). */
  textBatch?: number;
  /** Images per image-encoder call (default 64). */
  imageBatch?: number;
}

export interface TextEncoding {
  /** n x embed_dim, row-major, as the encoder returns them (normalised only when manifest.normalized). */
  embeds: Float32Array<ArrayBuffer>;
  /** The token ids fed to the encoder, [n, context_length]. */
  ids: BigInt64Array;
  lengths: number[];
}

export interface Clip {
  dir: string;
  manifest: ClipManifest;
  tokenizer: ClipTokenizer;
  provider: Provider;
  fallbacks: ProviderFallback[];
  embedDim: number;
  logitScale: number;
  /** Floats per preprocessed image: 3 x crop height x crop width. */
  inputSize: number;
  /** `input` holds n preprocessed images (NCHW float32); returns n x embed_dim (not renormalised). */
  encodeImages(input: Float32Array, n: number): Promise<Float32Array<ArrayBuffer>>;
  /** Tokenises (context length and pad id from the manifest) and encodes. */
  encodeTexts(texts: readonly string[]): Promise<Float32Array<ArrayBuffer>>;
  encodeTextsFull(texts: readonly string[]): Promise<TextEncoding>;
  /** Per-token states [n, context_length, width] (for a diffusion text encoder), when exported. */
  encodeTextHidden(texts: readonly string[]): Promise<{ data: Float32Array<ArrayBuffer>; dims: number[] }>;
  close(): Promise<void>;
}

/** L2-normalises each row of an n x d matrix in place (zero rows stay zero). */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  for (let r = 0; r < x.length / d; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j]! * x[r * d + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) x[r * d + j]! *= inv;
  }
  return x;
}

export async function openClip(packageDir: string, options: OpenClipOptions = {}): Promise<Clip> {
  const pkg = await loadModelPackage(packageDir, { verifyHash: options.verifyHash });
  if (pkg.manifest.kind !== 'clip') throw new ModelPackageError(pkg.manifestPath, `expected kind "clip", found ${JSON.stringify(pkg.manifest.kind)}`);
  const m = pkg.manifest;
  const tokenizer = ClipTokenizer.fromVocabMerges(join(pkg.dir, m.tokenizer.vocab), join(pkg.dir, m.tokenizer.merges));
  const sessionOptions = { provider: options.provider ?? 'auto', intraOpThreads: options.intraOpThreads } as const;
  const img = await createSession(pkg.onnxFiles.image_encoder!.path, sessionOptions);
  let txt;
  try {
    txt = await createSession(pkg.onnxFiles.text_encoder!.path, { ...sessionOptions, provider: img.provider });
  } catch (err) {
    await img.session.release();
    throw err;
  }
  const textGraph = pkg.onnxFiles.text_encoder!.graph;
  const halfPixels = pkg.onnxFiles.image_encoder!.graph.inputs.find((i) => i.name === m.image_encoder.input)?.elemType === 10;
  const idsType = textGraph.inputs.find((i) => i.name === m.text_encoder.input)!.elemType === 6 ? 'int32' : 'int64';
  const [h, w] = m.preprocess.crop;
  const inputSize = 3 * h * w;
  const E = m.embed_dim;
  const L = m.tokenizer.context_length;
  const textBatch = options.textBatch ?? 64;
  const imageBatch = options.imageBatch ?? 64;
  let closed = false;
  const check = () => {
    if (closed) throw new Error(`${pkg.dir}: the CLIP model was closed`);
  };

  async function runText(texts: readonly string[], wantHidden: boolean): Promise<{ embeds: Float32Array<ArrayBuffer>; hidden: Float32Array<ArrayBuffer> | null; width: number; ids: BigInt64Array; lengths: number[] }> {
    check();
    const enc = tokenizer.encodeBatch(texts, { contextLength: L, padId: m.tokenizer.pad_id });
    const n = texts.length;
    const embeds = new Float32Array(n * E);
    let hidden: Float32Array<ArrayBuffer> | null = null;
    let width = 0;
    const outNames = [m.text_encoder.output_embeds];
    if (wantHidden) {
      if (m.text_encoder.output_hidden === null) throw new Error(`${pkg.manifestPath}: this text encoder exports no per-token states (text_encoder.output_hidden is null)`);
      outNames.push(m.text_encoder.output_hidden);
    }
    for (let s = 0; s < n; s += textBatch) {
      const k = Math.min(textBatch, n - s);
      const slice = enc.ids.subarray(s * L, (s + k) * L);
      const feed: Record<string, ort.Tensor> = {
        [m.text_encoder.input]: idsType === 'int64' ? new ort.Tensor('int64', slice, [k, L]) : new ort.Tensor('int32', Int32Array.from(slice, Number), [k, L]),
      };
      if (m.text_encoder.attention_mask !== null) {
        const mask = new BigInt64Array(k * L);
        for (let r = 0; r < k; r++) for (let j = 0; j < enc.lengths[s + r]!; j++) mask[r * L + j] = 1n;
        feed[m.text_encoder.attention_mask] = idsType === 'int64' ? new ort.Tensor('int64', mask, [k, L]) : new ort.Tensor('int32', Int32Array.from(mask, Number), [k, L]);
      }
      const out = await txt!.session.run(feed, outNames);
      const e = out[m.text_encoder.output_embeds]!;
      const ed = floatData(e);
      if (!ed || e.size !== k * E) throw new Error(`${pkg.onnxFiles.text_encoder!.path}: output ${JSON.stringify(m.text_encoder.output_embeds)} has shape [${e.dims.join(', ')}] ${e.type}, expected [${k}, ${E}] float32 or float16`);
      embeds.set(ed, s * E);
      if (wantHidden) {
        const hs = out[m.text_encoder.output_hidden!]!;
        width = hs.dims[2]!;
        hidden ??= new Float32Array(n * L * width);
        const hd = floatData(hs);
        if (!hd) throw new Error(`${pkg.onnxFiles.text_encoder!.path}: output ${JSON.stringify(m.text_encoder.output_hidden)} is ${hs.type}, expected float32 or float16`);
        hidden.set(hd, s * L * width);
      }
    }
    return { embeds, hidden, width, ids: enc.ids, lengths: enc.lengths };
  }

  return {
    dir: pkg.dir,
    manifest: m,
    tokenizer,
    provider: img.provider,
    fallbacks: [...img.fallbacks, ...txt.fallbacks],
    embedDim: E,
    logitScale: m.logit_scale,
    inputSize,
    async encodeImages(input, n) {
      check();
      if (input.length < n * inputSize) throw new RangeError(`encodeImages: ${n} images need ${n * inputSize} values, got ${input.length}`);
      const out = new Float32Array(n * E);
      for (let s = 0; s < n; s += imageBatch) {
        const k = Math.min(imageBatch, n - s);
        const x = input.subarray(s * inputSize, (s + k) * inputSize);
        const pixels = halfPixels ? new ort.Tensor('float16', toFloat16(x), [k, 3, h, w]) : new ort.Tensor('float32', x, [k, 3, h, w]);
        const res = await img.session.run({ [m.image_encoder.input]: pixels }, [m.image_encoder.output]);
        const e = res[m.image_encoder.output]!;
        const ed = floatData(e);
        if (!ed || e.size !== k * E) throw new Error(`${pkg.onnxFiles.image_encoder!.path}: output ${JSON.stringify(m.image_encoder.output)} has shape [${e.dims.join(', ')}] ${e.type}, expected [${k}, ${E}] float32 or float16`);
        out.set(ed, s * E);
      }
      return out;
    },
    async encodeTexts(texts) {
      return (await runText(texts, false)).embeds;
    },
    async encodeTextsFull(texts) {
      const r = await runText(texts, false);
      return { embeds: r.embeds, ids: r.ids, lengths: r.lengths };
    },
    async encodeTextHidden(texts) {
      const r = await runText(texts, true);
      return { data: r.hidden!, dims: [texts.length, L, r.width] };
    },
    async close() {
      if (closed) return;
      closed = true;
      await img.session.release();
      await txt!.session.release();
    },
  };
}
