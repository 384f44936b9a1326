// Running a captioner package (Optimum's VisionEncoderDecoder ONNX layout, see layout.ts):
// images -> preprocessing (preprocessor_config.json as a FactorLab preprocessing spec) -> encoder in
// batches -> greedy decoding with the no-past decoder (each step runs the whole prefix; the rows
// that produced EOS leave the batch) -> byte-level BPE decoding of the ids.
//
// Checks at open, each error naming the file: the encoder's output width against the decoder's
// encoder_hidden_states input, the decoder's logits width against config.json's vocab_size and the
// tokenizer's vocabulary, the image size against the encoder's input. Where a graph leaves a size
// dynamic, the same check runs on the first batch's actual tensors.
import * as ort from 'onnxruntime-node';
import { decodeBatch, ImageDecodeError, type PreprocessSpec } from '../preprocess/index.ts';
import { createSession, type Provider, type ProviderFallback, type ProviderRequest } from '../runtime/session.ts';
import { float16BitsToFloat32, toFloat16 } from '../diffusion/float16.ts';
import type { ByteLevelBpeDecoder } from './bpe-decoder.ts';
import { CaptionerLayoutError, captionerPreprocess, readCaptionerLayout, type CaptionerLayout } from './layout.ts';

export interface OpenCaptionerOptions {
  provider?: ProviderRequest;
  intraOpThreads?: number;
  /** Images per encoder call and per decoding batch (default 16). */
  imageBatch?: number;
  /** Images decoded at once (default 4). */
  decodeConcurrency?: number;
}

export interface CaptionOptions {
  /** Most tokens generated per image (default: the package's generation config, see layout.ts). */
  maxTokens?: number;
}

export interface CaptionResult {
  text: string;
  /** Generated ids, EOS excluded. */
  ids: number[];
  /** Whether the row ended with EOS (false: stopped at maxTokens). */
  finished: boolean;
}

export interface Captioner {
  dir: string;
  layout: CaptionerLayout;
  tokenizer: ByteLevelBpeDecoder;
  provider: Provider;
  fallbacks: ProviderFallback[];
  preprocess: PreprocessSpec;
  /** Where preprocessing differs from the Python image processor (approximated filters...). */
  preprocessNotes: string[];
  maxTokens: number;
  /** One caption per image (PNG/JPEG/... bytes or a path), in order. */
  caption(images: readonly (Buffer | string)[], opts?: CaptionOptions): Promise<string[]>;
  /** As caption, with the ids and whether each row reached EOS. */
  captionDetailed(images: readonly (Buffer | string)[], opts?: CaptionOptions): Promise<CaptionResult[]>;
  close(): Promise<void>;
}

type Meta = { name: string; type: string; shape: (number | string | null)[] | null };

function metaOf(m: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return m.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: v.shape.length ? v.shape.map((d) => (typeof d === 'number' && d <= 0 ? null : d)) : null } : { name: v.name, type: 'non-tensor', shape: null }));
}

function fixed(m: Meta, axis: number): number | null {
  const d = m.shape?.[axis];
  return typeof d === 'number' ? d : null;
}

function describe(m: Meta): string {
  return `${m.name} ${m.type} [${m.shape ? m.shape.map((d) => (d === null ? '?' : String(d))).join(', ') : '?'}]`;
}

/** A float tensor's values as float32 (float16 outputs arrive as raw 16-bit words). */
function asFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const d = t.data as unknown as ArrayLike<number>;
    if (d instanceof Uint16Array) {
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = float16BitsToFloat32(d[i]!);
      return out;
    }
    return Float32Array.from(d); // a Float16Array where the runtime has one
  }
  throw new Error(`unexpected tensor type ${t.type}`);
}

export async function openCaptioner(dir: string, options: OpenCaptionerOptions = {}): Promise<Captioner> {
  const layout = readCaptionerLayout(dir);
  const f = layout.files;
  const tokenizer = layout.tokenizer;
  const sessionOptions = { provider: options.provider ?? 'auto', intraOpThreads: options.intraOpThreads } as const;
  const enc = await createSession(f.encoder, sessionOptions);
  let dec;
  try {
    dec = await createSession(f.decoder, { ...sessionOptions, provider: enc.provider });
  } catch (err) {
    await enc.session.release();
    throw err;
  }
  const release = async () => {
    await enc.session.release();
    await dec.session.release();
  };
  try {
    const setup = inspect(layout, metaOf(enc.session.inputMetadata), metaOf(enc.session.outputMetadata), metaOf(dec.session.inputMetadata), metaOf(dec.session.outputMetadata));
    const captioner = build(layout, tokenizer, enc, dec, setup, options);
    return captioner;
  } catch (err) {
    await release();
    throw err;
  }
}

interface Setup {
  pixel: Meta;
  hidden: Meta;
  ids: Meta;
  encStates: Meta;
  logits: Meta;
  /** Optional decoder inputs fed with ones. */
  encMask: Meta | null;
  decMask: Meta | null;
  spec: PreprocessSpec;
  notes: string[];
  /** Known widths (null: checked on the first batch). */
  width: number | null;
  vocab: number | null;
}

function inspect(layout: CaptionerLayout, encIn: Meta[], encOut: Meta[], decIn: Meta[], decOut: Meta[]): Setup {
  const f = layout.files;
  const pixel = encIn.find((m) => m.name === 'pixel_values') ?? (encIn.length === 1 ? encIn[0] : undefined);
  if (!pixel) throw new CaptionerLayoutError('encoder', f.encoder, `no input named pixel_values (inputs: ${encIn.map(describe).join(', ') || 'none'})`);
  if (pixel.type !== 'float32' && pixel.type !== 'float16') throw new CaptionerLayoutError('encoder', f.encoder, `input ${describe(pixel)}: expected float32 or float16 pixels`);
  if (pixel.shape && (pixel.shape.length !== 4 || (fixed(pixel, 1) !== null && fixed(pixel, 1) !== 3))) throw new CaptionerLayoutError('encoder', f.encoder, `input ${describe(pixel)}: expected [batch, 3, height, width]`);
  const extraEnc = encIn.filter((m) => m !== pixel);
  if (extraEnc.length) throw new CaptionerLayoutError('encoder', f.encoder, `inputs other than pixel_values are not supported: ${extraEnc.map(describe).join(', ')}`);
  const hidden = encOut.find((m) => m.name === 'last_hidden_state') ?? encOut[0];
  if (!hidden) throw new CaptionerLayoutError('encoder', f.encoder, 'the graph has no outputs');
  if (hidden.shape && hidden.shape.length !== 3) throw new CaptionerLayoutError('encoder', f.encoder, `output ${describe(hidden)}: expected [batch, sequence, width]`);

  const ids = decIn.find((m) => m.name === 'input_ids');
  if (!ids) throw new CaptionerLayoutError('decoder', f.decoder, `no input named input_ids (inputs: ${decIn.map(describe).join(', ') || 'none'})`);
  if (ids.type !== 'int64' && ids.type !== 'int32') throw new CaptionerLayoutError('decoder', f.decoder, `input ${describe(ids)}: expected int64 or int32 token ids`);
  const encStates = decIn.find((m) => m.name === 'encoder_hidden_states');
  if (!encStates) throw new CaptionerLayoutError('decoder', f.decoder, `no input named encoder_hidden_states (inputs: ${decIn.map(describe).join(', ')})`);
  const encMask = decIn.find((m) => m.name === 'encoder_attention_mask') ?? null;
  const decMask = decIn.find((m) => m.name === 'attention_mask' || m.name === 'decoder_attention_mask') ?? null;
  const known = new Set([ids, encStates, encMask, decMask]);
  const other = decIn.filter((m) => !known.has(m));
  if (other.length) {
    const past = other.some((m) => m.name.startsWith('past_key_values') || m.name === 'use_cache_branch');
    throw new CaptionerLayoutError('decoder', f.decoder, `unsupported inputs ${other.map((m) => m.name).slice(0, 4).join(', ')}${other.length > 4 ? ', ...' : ''}${past ? ': this is a decoder with past key values; use the no-past decoder_model.onnx (optimum-cli export onnx --task image-to-text)' : ''}`);
  }
  const logits = decOut.find((m) => m.name === 'logits') ?? decOut[0];
  if (!logits) throw new CaptionerLayoutError('decoder', f.decoder, 'the graph has no outputs');
  if (logits.shape && logits.shape.length !== 3) throw new CaptionerLayoutError('decoder', f.decoder, `output ${describe(logits)}: expected [batch, sequence, vocabulary]`);

  const encWidth = fixed(hidden, 2);
  const decWidth = fixed(encStates, 2);
  if (encWidth !== null && decWidth !== null && encWidth !== decWidth) {
    throw new CaptionerLayoutError('decoder', f.decoder, `encoder_hidden_states takes width ${decWidth}, but the encoder ${f.encoder} outputs ${hidden.name} of width ${encWidth}: the two models do not belong together`);
  }
  const encSeq = fixed(hidden, 1);
  const decSeq = fixed(encStates, 1);
  if (encSeq !== null && decSeq !== null && encSeq !== decSeq) {
    throw new CaptionerLayoutError('decoder', f.decoder, `encoder_hidden_states takes ${decSeq} positions, but the encoder ${f.encoder} outputs ${encSeq}`);
  }
  const vocab = fixed(logits, 2);
  if (vocab !== null) checkVocab(layout, vocab);
  const { spec, notes } = captionerPreprocess(layout, [fixed(pixel, 2), fixed(pixel, 3)]);
  return { pixel, hidden, ids, encStates, logits, encMask, decMask, spec, notes, width: encWidth ?? decWidth, vocab };
}

/** The logits width against config.json's vocab_size and the tokenizer's vocabulary. */
function checkVocab(layout: CaptionerLayout, v: number): void {
  const f = layout.files;
  if (layout.vocabSize !== null && layout.vocabSize !== v) {
    throw new CaptionerLayoutError('config', f.config, `decoder.vocab_size is ${layout.vocabSize}, but the decoder ${f.decoder} outputs logits over ${v} tokens`);
  }
  const t = layout.tokenizer;
  // a tokenizer smaller than the logits is accepted only where config.json says the model's
  // vocabulary is padded (vocab_size == logits width); ids past the tokenizer decode to nothing
  if (t.size > v || (t.size < v && layout.vocabSize !== v)) {
    throw new CaptionerLayoutError('tokenizer', t.file, `the vocabulary has ${t.size} tokens (ids 0-${t.size - 1}), but the decoder ${f.decoder} outputs logits over ${v} tokens: the tokenizer does not belong to this model`);
  }
}

function build(layout: CaptionerLayout, tokenizer: ByteLevelBpeDecoder, enc: Awaited<ReturnType<typeof createSession>>, dec: Awaited<ReturnType<typeof createSession>>, setup: Setup, options: OpenCaptionerOptions): Captioner {
  const f = layout.files;
  const { spec } = setup;
  const [h, w] = spec.crop;
  const per = 3 * h * w;
  const imageBatch = Math.max(1, options.imageBatch ?? 16);
  const concurrency = options.decodeConcurrency ?? 4;
  let width = setup.width;
  let vocabChecked = setup.vocab;
  let closed = false;
  const eos = new Set(layout.tokens.eos);
  const ids64 = setup.ids.type === 'int64';

  async function encode(x: Float32Array, k: number): Promise<{ data: Float32Array | Uint16Array; seq: number; width: number; type: 'float32' | 'float16' }> {
    const input = setup.pixel.type === 'float16' ? new ort.Tensor('float16', toFloat16(x), [k, 3, h, w]) : new ort.Tensor('float32', x, [k, 3, h, w]);
    const out = (await enc.session.run({ [setup.pixel.name]: input }, [setup.hidden.name]))[setup.hidden.name]!;
    if (out.dims.length !== 3 || out.dims[0] !== k) throw new CaptionerLayoutError('encoder', f.encoder, `output ${setup.hidden.name} has shape [${out.dims.join(', ')}], expected [${k}, sequence, width]`);
    const [, seq, wd] = out.dims as [number, number, number];
    if (width === null) width = wd;
    else if (wd !== width) throw new CaptionerLayoutError('decoder', f.decoder, `encoder_hidden_states takes width ${width}, but the encoder ${f.encoder} outputs ${setup.hidden.name} of width ${wd}: the two models do not belong together`);
    const wantHalf = setup.encStates.type === 'float16';
    let data: Float32Array | Uint16Array;
    if (out.type === 'float16' && wantHalf) data = out.data as unknown as Uint16Array;
    else if (wantHalf) data = toFloat16(asFloat32(out));
    else data = asFloat32(out);
    return { data, seq, width: wd, type: wantHalf ? 'float16' : 'float32' };
  }

  async function greedy(states: { data: Float32Array | Uint16Array; seq: number; width: number; type: 'float32' | 'float16' }, k: number, maxTokens: number): Promise<CaptionResult[]> {
    const rowSize = states.seq * states.width;
    const gen: number[][] = Array.from({ length: k }, () => []);
    const finished = new Array<boolean>(k).fill(false);
    let active = Array.from({ length: k }, (_, i) => i);
    let mem = states.data;
    for (let step = 0; step < maxTokens && active.length > 0; step++) {
      const a = active.length;
      const t = step + 1;
      const idsBuf = new BigInt64Array(a * t);
      for (const [r, row] of active.entries()) {
        idsBuf[r * t] = BigInt(layout.tokens.decoderStart);
        for (let j = 0; j < step; j++) idsBuf[r * t + 1 + j] = BigInt(gen[row]![j]!);
      }
      const feed: Record<string, ort.Tensor> = {
        [setup.ids.name]: ids64 ? new ort.Tensor('int64', idsBuf, [a, t]) : new ort.Tensor('int32', Int32Array.from(idsBuf, Number), [a, t]),
        [setup.encStates.name]: new ort.Tensor(states.type, mem, [a, states.seq, states.width]),
      };
      if (setup.encMask) feed[setup.encMask.name] = ones(setup.encMask.type, a, states.seq);
      if (setup.decMask) feed[setup.decMask.name] = ones(setup.decMask.type, a, t);
      const out = (await dec.session.run(feed, [setup.logits.name]))[setup.logits.name]!;
      if (out.dims.length !== 3 || out.dims[0] !== a || out.dims[1] !== t) throw new CaptionerLayoutError('decoder', f.decoder, `output ${setup.logits.name} has shape [${out.dims.join(', ')}], expected [${a}, ${t}, vocabulary]`);
      const v = out.dims[2]!;
      if (vocabChecked === null) {
        checkVocab(layout, v);
        vocabChecked = v;
      }
      const logits = asFloat32(out);
      const still: number[] = [];
      for (const [r, row] of active.entries()) {
        const base = (r * t + t - 1) * v;
        let best = 0;
        let bestVal = -Infinity;
        for (let j = 0; j < v; j++) {
          const x = logits[base + j]!;
          if (x > bestVal) {
            bestVal = x;
            best = j;
          }
        }
        if (eos.has(best)) finished[row] = true;
        else {
          gen[row]!.push(best);
          still.push(r);
        }
      }
      if (still.length !== a) {
        // drop the finished rows' encoder states
        const next = mem instanceof Uint16Array ? new Uint16Array(still.length * rowSize) : new Float32Array(still.length * rowSize);
        for (const [i, r] of still.entries()) next.set(mem.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
        mem = next;
        active = still.map((r) => active[r]!);
      }
    }
    return gen.map((ids, i) => ({ ids, finished: finished[i]!, text: tokenizer.decode(ids) }));
  }

  async function captionDetailed(images: readonly (Buffer | string)[], opts: CaptionOptions = {}): Promise<CaptionResult[]> {
    if (closed) throw new Error(`${layout.dir}: the captioner was closed`);
    const maxTokens = opts.maxTokens ?? layout.maxNewTokens;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
    if (layout.maxPositions !== null && maxTokens > layout.maxPositions) throw new RangeError(`maxTokens ${maxTokens} is more than the decoder's ${layout.maxPositions} positions (${f.config})`);
    const results: CaptionResult[] = [];
    for (let s = 0; s < images.length; s += imageBatch) {
      const chunk = images.slice(s, s + imageBatch);
      const k = chunk.length;
      const { tensor, errors } = await decodeBatch([...chunk], spec, new Float32Array(k * per), concurrency);
      if (errors.length) {
        const e = errors[0]!;
        const name = typeof chunk[e.index] === 'string' ? (chunk[e.index] as string) : `image ${s + e.index}`;
        throw new ImageDecodeError(name, e.error.reason, { cause: e.error });
      }
      const states = await encode(tensor, k);
      results.push(...(await greedy(states, k, maxTokens)));
    }
    return results;
  }

  return {
    dir: layout.dir,
    layout,
    tokenizer,
    provider: enc.provider,
    fallbacks: [...enc.fallbacks, ...dec.fallbacks],
    preprocess: spec,
    preprocessNotes: setup.notes,
    maxTokens: layout.maxNewTokens,
    captionDetailed,
    async caption(images, opts) {
      return (await captionDetailed(images, opts)).map((r) => r.text);
    },
    async close() {
      if (closed) return;
      closed = true;
      await enc.session.release();
      await dec.session.release();
    },
  };
}

function ones(type: string, rows: number, cols: number): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', new Int32Array(rows * cols).fill(1), [rows, cols]);
  if (type === 'float32') return new ort.Tensor('float32', new Float32Array(rows * cols).fill(1), [rows, cols]);
  if (type === 'bool') return new ort.Tensor('bool', new Uint8Array(rows * cols).fill(1), [rows, cols]);
  return new ort.Tensor('int64', new BigInt64Array(rows * cols).fill(1n), [rows, cols]);
}
