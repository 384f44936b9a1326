// The Hugging Face Optimum / diffusers ONNX layout of a Stable Diffusion model, read unchanged:
//
//   model_index.json
//   text_encoder/model.onnx        unet/model.onnx (+ external weights next to it)
//   vae_decoder/model.onnx         vae_encoder/model.onnx (optional, unused for text-to-image)
//   tokenizer/vocab.json, merges.txt (+ optional special_tokens_map.json, tokenizer_config.json)
//   scheduler/scheduler_config.json
//   unet/config.json, vae_decoder/config.json (optional: sample_size, in_channels, cross_attention_dim;
//   scaling_factor (default 0.18215), block_out_channels (VAE scale factor 2^(len - 1)))
//
// readDiffusionLayout checks that the parts exist and parses the JSON; inspectGraph reads a
// model's inputs and outputs from the ONNX file (or from a session for files too big to decode)
// and checkCompatibility compares the parts with each other.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { parseLenientJson } from './schedulers/common.ts';
import { readOnnxModel, summarizeGraph, type Dim, type GraphSummary } from '../onnx/index.ts';

export class DiffusionLayoutError extends Error {
  readonly part: string;
  readonly path: string;
  constructor(part: string, path: string, message: string) {
    super(`${part} (${path}): ${message}`);
    this.name = 'DiffusionLayoutError';
    this.part = part;
    this.path = path;
  }
}

export interface DiffusionFiles {
  modelIndex: string;
  textEncoder: string;
  unet: string;
  vaeDecoder: string;
  vaeEncoder: string | null;
  vocab: string;
  merges: string;
  schedulerConfig: string;
}

export interface DiffusionLayout {
  dir: string;
  files: DiffusionFiles;
  modelIndex: Record<string, unknown>;
  schedulerConfig: Record<string, unknown>;
  /** scheduler_config.json's _class_name (e.g. PNDMScheduler), or null. */
  schedulerClass: string | null;
  tokenizer: {
    /** The padding token's text (SD 1.x: <|endoftext|>; SD 2.x: "!"); null: not given (pad with <|endoftext|>). */
    padToken: string | null;
    /** model_max_length when the tokenizer config gives a usable one, else null. */
    maxLength: number | null;
  };
  unet: { sampleSize: number | null; inChannels: number | null; crossAttentionDim: number | null };
  vae: {
    scalingFactor: number;
    /** 2^(len(block_out_channels) - 1) from vae_decoder/config.json; null when the config does not
     * say (the pipeline then measures it with one small decode). */
    scaleFactor: number | null;
    latentChannels: number | null;
  };
}

function readJson(part: string, path: string, optional: boolean): Record<string, unknown> | null {
  if (!existsSync(path)) {
    if (optional) return null;
    throw new DiffusionLayoutError(part, path, 'missing');
  }
  let v: unknown;
  try {
    v = parseLenientJson(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DiffusionLayoutError(part, path, `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DiffusionLayoutError(part, path, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function requireFile(part: string, path: string): string {
  if (!existsSync(path)) throw new DiffusionLayoutError(part, path, 'missing');
  if (!statSync(path).isFile()) throw new DiffusionLayoutError(part, path, 'not a file');
  return path;
}

function posInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

export function readDiffusionLayout(dir: string): DiffusionLayout {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DiffusionLayoutError('model folder', dir, 'not a folder');
  const files: DiffusionFiles = {
    modelIndex: requireFile('model_index.json', join(dir, 'model_index.json')),
    textEncoder: requireFile('text encoder', join(dir, 'text_encoder', 'model.onnx')),
    unet: requireFile('unet', join(dir, 'unet', 'model.onnx')),
    vaeDecoder: requireFile('vae decoder', join(dir, 'vae_decoder', 'model.onnx')),
    vaeEncoder: existsSync(join(dir, 'vae_encoder', 'model.onnx')) ? join(dir, 'vae_encoder', 'model.onnx') : null,
    vocab: requireFile('tokenizer vocabulary', join(dir, 'tokenizer', 'vocab.json')),
    merges: requireFile('tokenizer merges', join(dir, 'tokenizer', 'merges.txt')),
    schedulerConfig: requireFile('scheduler config', join(dir, 'scheduler', 'scheduler_config.json')),
  };
  const modelIndex = readJson('model_index.json', files.modelIndex, false)!;
  const schedulerConfig = readJson('scheduler config', files.schedulerConfig, false)!;
  const special = readJson('tokenizer special tokens', join(dir, 'tokenizer', 'special_tokens_map.json'), true) ?? {};
  const tokConfig = readJson('tokenizer config', join(dir, 'tokenizer', 'tokenizer_config.json'), true) ?? {};
  const unetConfig = readJson('unet config', join(dir, 'unet', 'config.json'), true) ?? {};
  const vaeConfig = readJson('vae decoder config', join(dir, 'vae_decoder', 'config.json'), true) ?? {};

  const maxLen = posInt(tokConfig.model_max_length);
  const blocks = vaeConfig.block_out_channels;
  const scaling = vaeConfig.scaling_factor;
  if (scaling !== undefined && (typeof scaling !== 'number' || !(scaling > 0))) {
    throw new DiffusionLayoutError('vae decoder config', join(dir, 'vae_decoder', 'config.json'), `scaling_factor must be a positive number, got ${JSON.stringify(scaling)}`);
  }
  return {
    dir,
    files,
    modelIndex,
    schedulerConfig,
    schedulerClass: typeof schedulerConfig._class_name === 'string' ? schedulerConfig._class_name : null,
    tokenizer: {
      padToken: tokenText(special.pad_token) ?? tokenText(tokConfig.pad_token),
      // transformers writes 1e30 for "no limit": only a plausible length counts
      maxLength: maxLen !== null && maxLen <= 4096 ? maxLen : null,
    },
    unet: {
      sampleSize: posInt(unetConfig.sample_size),
      inChannels: posInt(unetConfig.in_channels),
      crossAttentionDim: posInt(unetConfig.cross_attention_dim),
    },
    vae: {
      scalingFactor: typeof scaling === 'number' ? scaling : 0.18215,
      scaleFactor: Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : null,
      latentChannels: posInt(vaeConfig.latent_channels),
    },
  };
}

/** One input or output of a graph: dtype as onnxruntime names it (float32, float16, int64, ...). */
export interface IOInfo {
  name: string;
  dtype: string;
  /** null: the rank is unknown. Dims: a number, a symbolic name, or null. */
  shape: Dim[] | null;
}

export interface GraphInfo {
  file: string;
  inputs: IOInfo[];
  outputs: IOInfo[];
  /** Rows of the token embedding table fed by input_ids, when it can be found. */
  embeddingRows: number | null;
}

const ORT_DTYPE: Record<string, string> = { float: 'float32', double: 'float64' };

/** Files up to this size are decoded with the protobuf reader; bigger ones use the session's metadata. */
const PROTO_LIMIT = 1 << 30;

function embeddingRowsOf(g: GraphSummary, idsName: string): number | null {
  const passThrough = new Set(['Cast', 'Reshape', 'Flatten', 'Unsqueeze', 'Squeeze', 'Identity', 'View']);
  const fromIds = (tensor: string, depth = 0): boolean => {
    if (tensor === idsName) return true;
    if (depth > 8) return false;
    const p = g.producer_of.get(tensor);
    if (p === undefined) return false;
    const node = g.nodes[p];
    return passThrough.has(node.opType) && fromIds(node.inputs[0], depth + 1);
  };
  for (const n of g.nodes) {
    if (n.opType !== 'Gather') continue;
    const init = g.initializers.get(n.inputs[0]);
    if (init && init.dims.length === 2 && fromIds(n.inputs[1])) return init.dims[0];
  }
  return null;
}

export async function inspectGraph(file: string, session: ort.InferenceSession | null): Promise<GraphInfo> {
  if (statSync(file).size <= PROTO_LIMIT || !session) {
    const g = summarizeGraph((await readOnnxModel(file)).model);
    const io = (t: { name: string; dtype: string; shape: Dim[] | null }): IOInfo => ({ name: t.name, dtype: ORT_DTYPE[t.dtype] ?? t.dtype, shape: t.shape });
    const ids = g.inputs.find((i) => i.name === 'input_ids')?.name ?? g.inputs[0]?.name ?? '';
    return { file, inputs: g.inputs.map(io), outputs: g.outputs.map(io), embeddingRows: embeddingRowsOf(g, ids) };
  }
  const meta = (m: readonly ort.InferenceSession.ValueMetadata[]): IOInfo[] =>
    m.map((v) => (v.isTensor ? { name: v.name, dtype: v.type, shape: v.shape.length ? v.shape.map((d) => (typeof d === 'number' && d <= 0 ? null : d)) : null } : { name: v.name, dtype: 'non-tensor', shape: null }));
  return { file, inputs: meta(session.inputMetadata), outputs: meta(session.outputMetadata), embeddingRows: null };
}

export interface ModelGraphs {
  textEncoder: GraphInfo;
  unet: GraphInfo;
  vaeDecoder: GraphInfo;
}

export interface Roles {
  textIds: IOInfo;
  textHidden: IOInfo;
  unetSample: IOInfo;
  unetTimestep: IOInfo;
  unetHidden: IOInfo;
  unetOut: IOInfo;
  vaeIn: IOInfo;
  vaeOut: IOInfo;
}

function fixed(d: Dim | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

/**
 * Finds the inputs and outputs the pipeline feeds and reads, and checks the parts against each other
 * (tokenizer vocabulary vs text embedding, text hidden size vs the UNet's cross-attention input,
 * UNet channels vs the VAE's latents). Throws a DiffusionLayoutError naming the part.
 */
export function resolveRoles(layout: DiffusionLayout, graphs: ModelGraphs, tokenizerVocabSize: number): Roles {
  const f = layout.files;
  const input = (g: GraphInfo, part: string, path: string, names: string[], fallbackFirst: boolean): IOInfo => {
    const hit = g.inputs.find((i) => names.includes(i.name)) ?? (fallbackFirst && g.inputs.length === 1 ? g.inputs[0] : undefined);
    if (!hit) throw new DiffusionLayoutError(part, path, `no input named ${names.join(' or ')} (inputs: ${g.inputs.map((i) => i.name).join(', ') || 'none'})`);
    return hit;
  };
  const output = (g: GraphInfo, part: string, path: string, name: string): IOInfo => {
    const hit = g.outputs.find((o) => o.name === name) ?? g.outputs[0];
    if (!hit) throw new DiffusionLayoutError(part, path, 'the graph has no outputs');
    return hit;
  };
  const te = graphs.textEncoder;
  const textIds = input(te, 'text encoder', f.textEncoder, ['input_ids'], true);
  if (textIds.dtype !== 'int32' && textIds.dtype !== 'int64') throw new DiffusionLayoutError('text encoder', f.textEncoder, `input ${textIds.name} is ${textIds.dtype}, expected int32 or int64 token ids`);
  const textHidden = output(te, 'text encoder', f.textEncoder, 'last_hidden_state');
  const u = graphs.unet;
  const unetSample = input(u, 'unet', f.unet, ['sample'], false);
  const unetTimestep = input(u, 'unet', f.unet, ['timestep', 'timesteps', 't'], false);
  const unetHidden = input(u, 'unet', f.unet, ['encoder_hidden_states'], false);
  const extra = u.inputs.filter((i) => ![unetSample.name, unetTimestep.name, unetHidden.name].includes(i.name));
  if (extra.length) throw new DiffusionLayoutError('unet', f.unet, `has inputs this pipeline does not feed: ${extra.map((i) => i.name).join(', ')} (SDXL / ControlNet / LCM-distilled UNets are not supported)`);
  for (const io of [unetTimestep]) {
    if (!['int64', 'int32', 'float32', 'float16'].includes(io.dtype)) throw new DiffusionLayoutError('unet', f.unet, `${io.name} is ${io.dtype}, expected int64, int32, float32 or float16`);
  }
  for (const io of [unetSample, unetHidden]) {
    if (io.dtype !== 'float32' && io.dtype !== 'float16') throw new DiffusionLayoutError('unet', f.unet, `${io.name} is ${io.dtype}, expected float32 or float16`);
  }
  const unetOut = output(u, 'unet', f.unet, 'out_sample');
  const v = graphs.vaeDecoder;
  const vaeIn = input(v, 'vae decoder', f.vaeDecoder, ['latent_sample'], true);
  const vaeOut = output(v, 'vae decoder', f.vaeDecoder, 'sample');

  if (te.embeddingRows !== null && tokenizerVocabSize > te.embeddingRows) {
    throw new DiffusionLayoutError('tokenizer', f.vocab, `the vocabulary has ${tokenizerVocabSize} tokens but the text encoder's embedding has ${te.embeddingRows} rows`);
  }
  const hidden = fixed(textHidden.shape?.[textHidden.shape.length - 1]);
  const cross = fixed(unetHidden.shape?.[unetHidden.shape.length - 1]) ?? layout.unet.crossAttentionDim;
  if (hidden !== null && cross !== null && hidden !== cross) {
    throw new DiffusionLayoutError('unet', f.unet, `encoder_hidden_states has last dimension ${cross} but the text encoder's ${textHidden.name} has ${hidden}`);
  }
  const sampleC = fixed(unetSample.shape?.[1]);
  if (sampleC !== null && layout.unet.inChannels !== null && sampleC !== layout.unet.inChannels) {
    throw new DiffusionLayoutError('unet', f.unet, `sample has ${sampleC} channels but unet/config.json says in_channels ${layout.unet.inChannels}`);
  }
  const vaeC = fixed(vaeIn.shape?.[1]);
  const channels = sampleC ?? layout.unet.inChannels;
  if (vaeC !== null && channels !== null && vaeC !== channels) {
    throw new DiffusionLayoutError('vae decoder', f.vaeDecoder, `${vaeIn.name} has ${vaeC} channels but the unet's sample has ${channels}`);
  }
  return { textIds, textHidden, unetSample, unetTimestep, unetHidden, unetOut, vaeIn, vaeOut };
}
