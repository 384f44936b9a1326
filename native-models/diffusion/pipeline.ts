// Text-to-image with a Stable Diffusion model in the Optimum ONNX layout (see layout.ts):
// tokenizer -> text encoder (prompt and negative prompt) -> seeded latents -> denoising loop
// (UNet on [uncond, cond], classifier-free guidance, scheduler step) -> VAE decoder -> PNG.
//
// Seeds: image k of a call (k over prompts x n, prompt-major) draws its initial latents and any
// ancestral / LCM step noise from its own RNG seeded with seed + k (random.ts), so the same seed,
// model and settings give identical PNG bytes, and provenance records each image's own seed.
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { ClipTokenizer } from '../clip/tokenizer/index.ts';
import { createSession, type Provider, type ProviderFallback, type ProviderRequest } from '../runtime/session.ts';
import { fromFloat16, toFloat16 } from './float16.ts';
import { inspectGraph, readDiffusionLayout, resolveRoles, DiffusionLayoutError, type DiffusionLayout, type IOInfo, type ModelGraphs, type Roles } from './layout.ts';
import { createRng, type Rng } from './random.ts';
import { resolveScheduler, type Scheduler } from './schedulers/index.ts';

export interface LoadOptions {
  provider?: ProviderRequest;
  intraOpThreads?: number;
  /** Most latents per UNet / VAE call (classifier-free guidance doubles the batch); default: all at once. */
  maxBatch?: number;
}

export interface GenerateOptions {
  prompts: string[];
  /** One negative prompt for all prompts, or one per prompt; default "" (unconditional). */
  negativePrompt?: string | string[];
  seed?: number;
  steps?: number;
  /** Classifier-free guidance scale; <= 1 runs the conditional branch alone. */
  guidance?: number;
  /** ddim, euler, euler_a, dpmpp_2m, lcm, pndm or a diffusers class name; default: the model's scheduler_config
   * (a class not implemented there runs as DDIM with the same betas; the result's scheduler.fallback says so). */
  scheduler?: string;
  width?: number;
  height?: number;
  /** Images per prompt. */
  n?: number;
  /** Cut prompts longer than the tokenizer's max length instead of refusing them. */
  truncate?: boolean;
  onProgress?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GeneratedImage {
  index: number;
  prompt: string;
  negativePrompt: string;
  seed: number;
  width: number;
  height: number;
  png: Buffer;
}

export interface GenerateResult {
  images: GeneratedImage[];
  scheduler: { name: string; className: string; fallback: { requested: string; used: string; reason: string } | null };
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  seconds: number;
}

export class PromptTooLongError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptTooLongError';
  }
}

interface Sessions {
  textEncoder: ort.InferenceSession;
  unet: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
}

type FloatData = Float32Array;

function toFloatTensor(io: IOInfo, data: Float32Array, dims: number[]): ort.Tensor {
  return io.dtype === 'float16' ? new ort.Tensor('float16', toFloat16(data), dims) : new ort.Tensor('float32', data, dims);
}

function readFloat(t: ort.Tensor, what: string): FloatData {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const d = t.data as unknown;
    if (d instanceof Uint16Array) return fromFloat16(d);
    return Float32Array.from(d as ArrayLike<number>);
  }
  throw new Error(`${what} is ${t.type}, expected float32 or float16`);
}

function fixedDim(d: unknown): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

export class DiffusionPipeline {
  readonly layout: DiffusionLayout;
  readonly tokenizer: ClipTokenizer;
  readonly roles: Roles;
  readonly provider: Provider;
  readonly fallbacks: ProviderFallback[];
  readonly maxLength: number;
  readonly padId: number;
  readonly latentChannels: number;
  /** Image pixels per latent pixel: from vae_decoder/config.json, else measured by one small decode. */
  vaeScaleFactor: number;
  private readonly sessions: Sessions;
  private readonly maxBatch: number | null;

  private constructor(layout: DiffusionLayout, tokenizer: ClipTokenizer, sessions: Sessions, roles: Roles, provider: Provider, fallbacks: ProviderFallback[], maxBatch: number | null) {
    this.layout = layout;
    this.maxBatch = maxBatch;
    this.vaeScaleFactor = layout.vae.scaleFactor ?? 8;
    this.tokenizer = tokenizer;
    this.sessions = sessions;
    this.roles = roles;
    this.provider = provider;
    this.fallbacks = fallbacks;
    const seqDim = fixedDim(roles.textIds.shape?.[1]);
    this.maxLength = layout.tokenizer.maxLength ?? seqDim ?? 77;
    if (seqDim !== null && seqDim !== this.maxLength) {
      throw new DiffusionLayoutError('text encoder', layout.files.textEncoder, `${roles.textIds.name} has sequence length ${seqDim} but the tokenizer's model_max_length is ${this.maxLength}`);
    }
    const padToken = layout.tokenizer.padToken ?? '<|endoftext|>';
    const padId = tokenizer.tokenToId(padToken);
    if (padId === undefined) throw new DiffusionLayoutError('tokenizer', layout.files.vocab, `the pad token ${JSON.stringify(padToken)} is not in the vocabulary`);
    this.padId = padId;
    this.latentChannels = fixedDim(roles.unetSample.shape?.[1]) ?? layout.unet.inChannels ?? layout.vae.latentChannels ?? 4;
  }

  /** Reads and checks the layout, then opens the three sessions (from file paths: external weights stay where they are). */
  static async load(dir: string, options: LoadOptions = {}): Promise<DiffusionPipeline> {
    const layout = readDiffusionLayout(dir);
    let tokenizer: ClipTokenizer;
    try {
      tokenizer = ClipTokenizer.fromVocabMerges(layout.files.vocab, layout.files.merges);
    } catch (e) {
      throw new DiffusionLayoutError('tokenizer', layout.files.vocab, (e as Error).message);
    }
    if (options.maxBatch !== undefined && (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)) throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    const sopts = { provider: options.provider ?? 'auto', intraOpThreads: options.intraOpThreads };
    const te = await createSession(layout.files.textEncoder, sopts);
    const unet = await createSession(layout.files.unet, sopts);
    const vae = await createSession(layout.files.vaeDecoder, sopts);
    const sessions = { textEncoder: te.session, unet: unet.session, vaeDecoder: vae.session };
    try {
      const graphs: ModelGraphs = {
        textEncoder: await inspectGraph(layout.files.textEncoder, te.session),
        unet: await inspectGraph(layout.files.unet, unet.session),
        vaeDecoder: await inspectGraph(layout.files.vaeDecoder, vae.session),
      };
      const roles = resolveRoles(layout, graphs, tokenizer.vocabSize);
      const pipe = new DiffusionPipeline(layout, tokenizer, sessions, roles, unet.provider, [...te.fallbacks, ...unet.fallbacks, ...vae.fallbacks], options.maxBatch ?? null);
      if (layout.vae.scaleFactor === null) pipe.vaeScaleFactor = await pipe.measureVaeScaleFactor();
      return pipe;
    } catch (e) {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
      throw e;
    }
  }

  /** Decodes one small latent and compares sizes (for models without vae_decoder/config.json). */
  private async measureVaeScaleFactor(): Promise<number> {
    const h = fixedDim(this.roles.vaeIn.shape?.[2]) ?? 4;
    const w = fixedDim(this.roles.vaeIn.shape?.[3]) ?? 4;
    const c = this.latentChannels;
    const out = await this.decode(new Float32Array(c * h * w), [1, c, h, w]);
    const f = out.dims[2] / h;
    if (!Number.isInteger(f) || f < 1 || out.dims[3] / w !== f) {
      throw new DiffusionLayoutError('vae decoder', this.layout.files.vaeDecoder, `a ${h}x${w} latent decodes to ${out.dims[2]}x${out.dims[3]}: no integer scale factor`);
    }
    return f;
  }

  async release(): Promise<void> {
    await Promise.all([this.sessions.textEncoder.release(), this.sessions.unet.release(), this.sessions.vaeDecoder.release()]);
  }

  /** Padded token ids, one row of maxLength per text; too long -> PromptTooLongError unless truncate. */
  tokenize(texts: readonly string[], truncate = false): number[][] {
    return texts.map((text) => {
      let ids = this.tokenizer.encode(text);
      if (ids.length > this.maxLength) {
        if (!truncate) {
          throw new PromptTooLongError(`prompt is ${ids.length} tokens long, more than the model's ${this.maxLength} (start and end tokens included); shorten it or allow truncation: ${JSON.stringify(text.slice(0, 80))}`);
        }
        ids = [...ids.slice(0, this.maxLength - 1), this.tokenizer.endId];
      }
      while (ids.length < this.maxLength) ids.push(this.padId);
      return ids;
    });
  }

  /** Runs `fn` on chunks of a batch when the model fixes its batch size (padding the last chunk). */
  private async chunked(batch: number, fixedBatch: number | null, perItem: number, data: Float32Array, fn: (chunk: Float32Array, start: number, size: number) => Promise<Float32Array>): Promise<Float32Array> {
    const step = fixedBatch ?? Math.min(batch, this.maxBatch ?? batch);
    if (step === batch) return fn(data, 0, batch);
    const parts: Float32Array[] = [];
    for (let start = 0; start < batch; start += step) {
      const size = Math.min(step, batch - start);
      const runSize = fixedBatch ?? size;
      const chunk = new Float32Array(runSize * perItem);
      chunk.set(data.subarray(start * perItem, (start + size) * perItem));
      for (let k = size; k < runSize; k++) chunk.copyWithin(k * perItem, 0, perItem); // padding for a fixed batch, dropped below
      const out = await fn(chunk, start, runSize);
      parts.push(out.subarray(0, (out.length / runSize) * size));
    }
    const total = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      total.set(p, off);
      off += p.length;
    }
    return total;
  }

  /** Text encoder hidden states for token rows: [rows, maxLength, hidden] flattened, and hidden. */
  async encodeText(rows: number[][]): Promise<{ data: Float32Array; hidden: number }> {
    const r = this.roles;
    const L = this.maxLength;
    const fixedBatch = fixedDim(r.textIds.shape?.[0]);
    const out: Float32Array[] = [];
    let hidden = 0;
    const step = fixedBatch ?? Math.min(rows.length, this.maxBatch ?? rows.length);
    for (let start = 0; start < rows.length; start += step) {
      const chunk = rows.slice(start, start + step);
      const size = chunk.length;
      while (fixedBatch !== null && chunk.length < fixedBatch) chunk.push(chunk[0]);
      const flat = chunk.flat();
      const ids = r.textIds.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(flat, (x) => BigInt(x)), [chunk.length, L]) : new ort.Tensor('int32', Int32Array.from(flat), [chunk.length, L]);
      const res = await this.sessions.textEncoder.run({ [r.textIds.name]: ids }, [r.textHidden.name]);
      const t = res[r.textHidden.name];
      if (t.dims.length !== 3 || t.dims[0] !== chunk.length) throw new Error(`text encoder output ${r.textHidden.name} has shape [${t.dims.join(', ')}], expected [${chunk.length}, ${L}, hidden]`);
      hidden = t.dims[2];
      const data = readFloat(t, `text encoder output ${r.textHidden.name}`);
      out.push(data.subarray(0, size * t.dims[1] * hidden));
    }
    const total = new Float32Array(out.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of out) {
      total.set(p, off);
      off += p.length;
    }
    return { data: total, hidden };
  }

  private timestepTensor(t: number, batch: number): ort.Tensor {
    const io = this.roles.unetTimestep;
    const shape = io.shape;
    const dims = shape !== null && shape.length === 0 ? [] : fixedDim(shape?.[0]) === 1 ? [1] : [batch];
    const n = dims.length === 0 ? 1 : dims[0];
    switch (io.dtype) {
      case 'int64': return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(Math.trunc(t))), dims);
      case 'int32': return new ort.Tensor('int32', new Int32Array(n).fill(Math.trunc(t)), dims);
      case 'float16': return new ort.Tensor('float16', toFloat16(new Float32Array(n).fill(t)), dims);
      default: return new ort.Tensor('float32', new Float32Array(n).fill(t), dims);
    }
  }

  /** One UNet call: latents [batch, C, h, w], hidden [batch, L, hidden]; returns the noise prediction. */
  async runUnet(latents: Float32Array, dims: [number, number, number, number], t: number, hidden: Float32Array, hiddenSize: number): Promise<Float32Array> {
    const r = this.roles;
    const [batch, c, h, w] = dims;
    const per = c * h * w;
    const L = hidden.length / batch / hiddenSize;
    const fixedBatch = fixedDim(r.unetSample.shape?.[0]);
    return this.chunked(batch, fixedBatch, per, latents, async (chunk, start, size) => {
      const hs = new Float32Array(size * L * hiddenSize);
      for (let k = 0; k < size; k++) {
        const src = Math.min(start + k, batch - 1);
        hs.set(hidden.subarray(src * L * hiddenSize, (src + 1) * L * hiddenSize), k * L * hiddenSize);
      }
      const feeds = {
        [r.unetSample.name]: toFloatTensor(r.unetSample, chunk, [size, c, h, w]),
        [r.unetTimestep.name]: this.timestepTensor(t, size),
        [r.unetHidden.name]: toFloatTensor(r.unetHidden, hs, [size, L, hiddenSize]),
      };
      const res = await this.sessions.unet.run(feeds, [r.unetOut.name]);
      const out = readFloat(res[r.unetOut.name], `unet output ${r.unetOut.name}`);
      if (out.length !== size * per) throw new Error(`unet output ${r.unetOut.name} has shape [${res[r.unetOut.name].dims.join(', ')}], expected [${size}, ${c}, ${h}, ${w}]`);
      return out;
    });
  }

  /** VAE decode of latents already divided by the scaling factor: [batch, 3, H, W] in about [-1, 1]. */
  async decode(latents: Float32Array, dims: [number, number, number, number]): Promise<{ data: Float32Array; dims: number[] }> {
    const r = this.roles;
    const [batch, c, h, w] = dims;
    let outDims: number[] = [];
    const data = await this.chunked(batch, fixedDim(r.vaeIn.shape?.[0]), c * h * w, latents, async (chunk, _start, size) => {
      const res = await this.sessions.vaeDecoder.run({ [r.vaeIn.name]: toFloatTensor(r.vaeIn, chunk, [size, c, h, w]) }, [r.vaeOut.name]);
      const t = res[r.vaeOut.name];
      if (t.dims.length !== 4 || t.dims[1] !== 3) throw new Error(`vae decoder output ${r.vaeOut.name} has shape [${t.dims.join(', ')}], expected [batch, 3, height, width]`);
      outDims = [batch, 3, t.dims[2], t.dims[3]];
      return readFloat(t, `vae decoder output ${r.vaeOut.name}`);
    });
    return { data, dims: outDims };
  }

  /** The image size the model was made for (unet sample_size x vae scale factor), else 512. */
  defaultSize(): { width: number; height: number } {
    const vsf = this.vaeScaleFactor;
    const sh = fixedDim(this.roles.unetSample.shape?.[2]);
    const sw = fixedDim(this.roles.unetSample.shape?.[3]);
    const s = this.layout.unet.sampleSize;
    return { width: (sw ?? s ?? 512 / vsf) * vsf, height: (sh ?? s ?? 512 / vsf) * vsf };
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const started = Date.now();
    const prompts = options.prompts;
    if (!Array.isArray(prompts) || prompts.length === 0) throw new RangeError('give at least one prompt');
    const n = options.n ?? 1;
    const steps = options.steps ?? 25;
    const guidance = options.guidance ?? 7.5;
    const seed = options.seed ?? 0;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n (images per prompt) must be a positive integer, got ${n}`);
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
    if (!Number.isFinite(guidance) || guidance < 0) throw new RangeError(`guidance must be a non-negative number, got ${guidance}`);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const negatives = Array.isArray(options.negativePrompt) ? options.negativePrompt : prompts.map(() => (options.negativePrompt as string | undefined) ?? '');
    if (negatives.length !== prompts.length) throw new RangeError(`${negatives.length} negative prompts for ${prompts.length} prompts`);
    const vsf = this.vaeScaleFactor;
    const def = this.defaultSize();
    const width = options.width ?? def.width;
    const height = options.height ?? def.height;
    for (const [what, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < vsf || v % vsf !== 0) throw new RangeError(`${what} must be a positive multiple of ${vsf} (the VAE scale factor), got ${v}`);
    }
    const lh = height / vsf;
    const lw = width / vsf;
    const sh = fixedDim(this.roles.unetSample.shape?.[2]);
    const sw = fixedDim(this.roles.unetSample.shape?.[3]);
    if ((sh !== null && sh !== lh) || (sw !== null && sw !== lw)) throw new RangeError(`this UNet only takes ${sw! * vsf}x${sh! * vsf} images (fixed latent size ${sw}x${sh})`);

    const { scheduler, fallback } = options.scheduler
      ? resolveScheduler(options.scheduler, this.layout.schedulerConfig)
      : resolveScheduler(this.layout.schedulerClass ?? 'DDIMScheduler', this.layout.schedulerConfig, { fallback: true });
    scheduler.setTimesteps(steps);
    const signal = options.signal;
    signal?.throwIfAborted();

    // Text: each distinct prompt once, then repeated n times.
    const cfg = guidance > 1;
    const condRows = this.tokenize(prompts, options.truncate);
    const uncondRows = cfg ? this.tokenize(negatives, options.truncate) : [];
    const enc = await this.encodeText([...uncondRows, ...condRows]);
    const H = enc.hidden;
    const rowSize = this.maxLength * H;
    const B = prompts.length * n;
    const hidden = new Float32Array((cfg ? 2 : 1) * B * rowSize);
    for (let p = 0; p < prompts.length; p++) {
      for (let k = 0; k < n; k++) {
        const img = p * n + k;
        if (cfg) {
          hidden.set(enc.data.subarray(p * rowSize, (p + 1) * rowSize), img * rowSize);
          hidden.set(enc.data.subarray((prompts.length + p) * rowSize, (prompts.length + p + 1) * rowSize), (B + img) * rowSize);
        } else {
          hidden.set(enc.data.subarray(p * rowSize, (p + 1) * rowSize), img * rowSize);
        }
      }
    }

    // Latents: image k from its own RNG (seed + k).
    const C = this.latentChannels;
    const per = C * lh * lw;
    const rngs: Rng[] = Array.from({ length: B }, (_, k) => createRng(seed + k));
    let latents: Float32Array = new Float32Array(B * per);
    rngs.forEach((rng, k) => {
      const z = rng.randn(per);
      for (let i = 0; i < per; i++) latents[k * per + i] = z[i] * scheduler.initNoiseSigma;
    });
    const noise = (length: number): Float32Array => {
      const each = length / B;
      const out = new Float32Array(length);
      rngs.forEach((rng, k) => out.set(rng.randn(each), k * each));
      return out;
    };

    const total = scheduler.timesteps.length;
    for (let i = 0; i < total; i++) {
      signal?.throwIfAborted();
      const t = scheduler.timesteps[i];
      const scaled = scheduler.scaleModelInput(latents, t);
      let eps: Float32Array;
      if (cfg) {
        const input = new Float32Array(2 * B * per);
        input.set(scaled, 0);
        input.set(scaled, B * per);
        const out = await this.runUnet(input, [2 * B, C, lh, lw], t, hidden, H);
        checkUnetOutput(out, i, total, t);
        eps = new Float32Array(B * per);
        for (let j = 0; j < B * per; j++) {
          const u = out[j];
          eps[j] = u + guidance * (out[B * per + j] - u);
        }
      } else {
        eps = await this.runUnet(scaled, [B, C, lh, lw], t, hidden, H);
        checkUnetOutput(eps, i, total, t);
      }
      latents = scheduler.step(eps, t, latents, noise);
      for (let j = 0; j < latents.length; j++) {
        if (!Number.isFinite(latents[j])) {
          throw new Error(`NaN or infinity in the latents after step ${i + 1} of ${total} (timestep ${t}, scheduler ${scheduler.name}); an fp16 model may overflow here: try the fp32 export or another scheduler`);
        }
      }
      options.onProgress?.(i + 1, total);
    }
    signal?.throwIfAborted();

    const sf = this.layout.vae.scalingFactor;
    const dec = await this.decode(Float32Array.from(latents, (x) => x / sf), [B, C, lh, lw]);
    const [, , ih, iw] = dec.dims;
    const images: GeneratedImage[] = [];
    for (let k = 0; k < B; k++) {
      const png = await toPng(dec.data.subarray(k * 3 * ih * iw, (k + 1) * 3 * ih * iw), iw, ih);
      const p = Math.floor(k / n);
      images.push({ index: k, prompt: prompts[p], negativePrompt: cfg ? negatives[p] : '', seed: seed + k, width: iw, height: ih, png });
    }
    return {
      images,
      scheduler: { name: scheduler.name, className: scheduler.className, fallback },
      steps,
      guidance,
      seed,
      width: iw,
      height: ih,
      seconds: (Date.now() - started) / 1000,
    };
  }
}

function checkUnetOutput(out: Float32Array, i: number, total: number, t: number): void {
  for (let j = 0; j < out.length; j++) {
    if (!Number.isFinite(out[j])) {
      throw new Error(`the UNet gave NaN or infinity at step ${i + 1} of ${total} (timestep ${t}); an fp16 model may overflow here: try the fp32 export`);
    }
  }
}

/** CHW floats in [-1, 1] -> 8-bit RGB PNG ((x / 2 + 0.5) clamped, * 255, rounded, as diffusers). */
export async function toPng(chw: Float32Array, width: number, height: number): Promise<Buffer> {
  const hw = width * height;
  const rgb = Buffer.alloc(hw * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < hw; i++) {
      const v = Math.min(1, Math.max(0, chw[c * hw + i] / 2 + 0.5));
      rgb[i * 3 + c] = Math.round(v * 255);
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export type { Scheduler };
