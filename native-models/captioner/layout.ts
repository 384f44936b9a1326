// The Hugging Face Optimum ONNX layout of a VisionEncoderDecoder image captioner, read unchanged
// (what `optimum-cli export onnx --task image-to-text` writes, e.g. for
// nlpconnect/vit-gpt2-image-captioning):
//
//   encoder_model.onnx          pixel_values [B,3,H,W] -> last_hidden_state [B,S,D]
//   decoder_model.onnx          input_ids [B,T] int64, encoder_hidden_states [B,S,D] -> logits [B,T,V]
//                               (the no-past decoder; decoder_with_past_model.onnx and
//                               decoder_model_merged.onnx are ignored when present)
//   config.json                 decoder_start_token_id / bos / eos / pad (top level or `decoder`),
//                               decoder.vocab_size, decoder.n_positions / max_position_embeddings
//   generation_config.json      optional: the same ids, max_length / max_new_tokens (preferred)
//   preprocessor_config.json    image size, resample, rescale, mean / std
//   vocab.json + merges.txt, or tokenizer.json   GPT-2 byte-level BPE (+ optional
//                               special_tokens_map.json, tokenizer_config.json, added_tokens.json)
//
// The ONNX files may also sit in an `onnx/` subfolder with the JSON files at the top (the layout of
// the transformers.js conversions on the Hub). readCaptionerLayout checks that the parts exist and
// parses the JSON (synchronously, no model is loaded); openCaptioner checks the graphs against each
// other. Every error names the part and its file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpeDecoder, TokenizerFileError } from './bpe-decoder.ts';
import { PreprocessorConfigError, specFromPreprocessorConfig, type PreprocessorResult } from './preprocessor.ts';

export class CaptionerLayoutError extends Error {
  readonly part: string;
  readonly path: string;
  constructor(part: string, path: string, message: string) {
    super(`${part} (${path}): ${message}`);
    this.name = 'CaptionerLayoutError';
    this.part = part;
    this.path = path;
  }
}

export interface CaptionerFiles {
  encoder: string;
  decoder: string;
  config: string;
  generationConfig: string | null;
  preprocessorConfig: string;
  /** tokenizer.json when present (preferred, as transformers' fast tokenizer), else null. */
  tokenizerJson: string | null;
  vocab: string | null;
  merges: string | null;
  addedTokens: string | null;
  specialTokensMap: string | null;
  tokenizerConfig: string | null;
}

export interface CaptionerLayout {
  dir: string;
  files: CaptionerFiles;
  config: Record<string, unknown>;
  preprocessorConfig: Record<string, unknown>;
  tokens: {
    decoderStart: number;
    /** Generation stops at any of these. */
    eos: number[];
    bos: number | null;
    pad: number | null;
  };
  /** config.json's decoder.vocab_size (or top-level vocab_size), when given. */
  vocabSize: number | null;
  /** The decoder's position table size (decoder.n_positions / max_position_embeddings), when given. */
  maxPositions: number | null;
  /** Default number of generated tokens: max_new_tokens, else max_length - 1 (the decoder start
   * token counts in max_length), else 20 - 1 (transformers' default max_length); capped by maxPositions. */
  maxNewTokens: number;
  /** Files present that are not used (with-past decoders). */
  ignored: string[];
  /** The byte-level BPE decoder (ids -> text); its `size` is checked against the logits at open. */
  tokenizer: ByteLevelBpeDecoder;
}

function requireFile(part: string, path: string, expected: string): string {
  if (!existsSync(path)) throw new CaptionerLayoutError(part, path, `missing (expected ${expected})`);
  if (!statSync(path).isFile()) throw new CaptionerLayoutError(part, path, 'not a file');
  return path;
}

function readJson(part: string, path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8').replace(/\bNaN\b|-?\bInfinity\b/g, 'null'));
  } catch (e) {
    throw new CaptionerLayoutError(part, path, `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CaptionerLayoutError(part, path, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function optional(path: string): string | null {
  return existsSync(path) && statSync(path).isFile() ? path : null;
}

function tokenId(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function tokenIds(v: unknown): number[] | null {
  if (tokenId(v) !== null) return [v as number];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => tokenId(x) !== null)) return v as number[];
  return null;
}

function posInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

/** The folder holding the ONNX files: the package folder, or its onnx/ subfolder. */
function onnxFolder(dir: string): string {
  if (existsSync(join(dir, 'encoder_model.onnx'))) return dir;
  if (existsSync(join(dir, 'onnx', 'encoder_model.onnx'))) return join(dir, 'onnx');
  return dir;
}

export function readCaptionerLayout(dir: string): CaptionerLayout {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CaptionerLayoutError('captioner folder', dir, 'not a folder');
  const od = onnxFolder(dir);
  const encoder = requireFile('encoder', join(od, 'encoder_model.onnx'), 'the image encoder: pixel_values -> last_hidden_state');
  const decoderPath = join(od, 'decoder_model.onnx');
  const ignored: string[] = [];
  for (const f of ['decoder_model_merged.onnx', 'decoder_with_past_model.onnx']) if (existsSync(join(od, f))) ignored.push(join(od, f));
  if (!existsSync(decoderPath)) {
    const hint = ignored.length ? `; found only ${ignored.map((p) => p.slice(od.length + 1)).join(' and ')}, which need past key values: export with --task image-to-text (no past), which writes decoder_model.onnx` : '';
    throw new CaptionerLayoutError('decoder', decoderPath, `missing (expected the no-past text decoder: input_ids, encoder_hidden_states -> logits${hint})`);
  }
  const decoder = requireFile('decoder', decoderPath, 'the text decoder');
  const configPath = requireFile('config', join(dir, 'config.json'), 'the VisionEncoderDecoder config.json');
  const preprocessorPath = requireFile('preprocessor config', join(dir, 'preprocessor_config.json'), 'the image processor config (size, mean, std)');
  const tokenizerJson = optional(join(dir, 'tokenizer.json'));
  const vocab = optional(join(dir, 'vocab.json'));
  const merges = optional(join(dir, 'merges.txt'));
  if (!tokenizerJson) {
    if (!vocab) throw new CaptionerLayoutError('tokenizer vocabulary', join(dir, 'vocab.json'), 'missing (expected the GPT-2 BPE vocab.json + merges.txt, or tokenizer.json)');
    if (!merges) throw new CaptionerLayoutError('tokenizer merges', join(dir, 'merges.txt'), 'missing (vocab.json comes with merges.txt)');
  }
  const files: CaptionerFiles = {
    encoder,
    decoder,
    config: configPath,
    generationConfig: optional(join(dir, 'generation_config.json')),
    preprocessorConfig: preprocessorPath,
    tokenizerJson,
    vocab,
    merges,
    addedTokens: optional(join(dir, 'added_tokens.json')),
    specialTokensMap: optional(join(dir, 'special_tokens_map.json')),
    tokenizerConfig: optional(join(dir, 'tokenizer_config.json')),
  };
  const config = readJson('config', configPath);
  const gen = files.generationConfig ? readJson('generation config', files.generationConfig) : {};
  const preprocessorConfig = readJson('preprocessor config', preprocessorPath);
  const dec = (config.decoder && typeof config.decoder === 'object' ? config.decoder : {}) as Record<string, unknown>;
  const pick = <T>(key: string, conv: (v: unknown) => T | null): T | null => conv(gen[key]) ?? conv(config[key]) ?? conv(dec[key]);
  const bos = pick('bos_token_id', tokenId);
  const decoderStart = pick('decoder_start_token_id', tokenId) ?? bos;
  const where = files.generationConfig ? `${configPath} or ${files.generationConfig}` : configPath;
  if (decoderStart === null) throw new CaptionerLayoutError('config', where, 'no decoder_start_token_id (nor bos_token_id): the decoder cannot be started');
  const eos = pick('eos_token_id', tokenIds);
  if (eos === null) throw new CaptionerLayoutError('config', where, 'no eos_token_id: generation would never stop');
  const vocabSize = posInt(dec.vocab_size) ?? posInt(config.vocab_size);
  const maxPositions = posInt(dec.n_positions) ?? posInt(dec.max_position_embeddings) ?? null;
  const maxLength = posInt(gen.max_length) ?? posInt(config.max_length);
  let maxNewTokens = posInt(gen.max_new_tokens) ?? (maxLength !== null && maxLength > 1 ? maxLength - 1 : 19);
  if (maxPositions !== null) maxNewTokens = Math.min(maxNewTokens, maxPositions);
  const pad = pick('pad_token_id', tokenId);
  const specialIds = [decoderStart, ...eos, ...(bos !== null ? [bos] : []), ...(pad !== null ? [pad] : [])];
  let tokenizer: ByteLevelBpeDecoder;
  try {
    tokenizer = ByteLevelBpeDecoder.fromFiles(files, specialIds);
  } catch (e) {
    if (e instanceof TokenizerFileError) throw new CaptionerLayoutError('tokenizer', e.file, e.message.slice(e.file.length + 2));
    throw e;
  }
  const layout: CaptionerLayout = { dir, files, config, preprocessorConfig, tokens: { decoderStart, eos, bos, pad }, vocabSize, maxPositions, maxNewTokens, ignored, tokenizer };
  // check the image processor config now when it does not depend on the encoder's input size
  if (preprocessorConfig.do_resize !== false) captionerPreprocess(layout);
  return layout;
}

/** The preprocessing spec of a layout, checked against the encoder's fixed input size. */
export function captionerPreprocess(layout: CaptionerLayout, encoderSize: [number | null, number | null] = [null, null]): PreprocessorResult {
  try {
    return specFromPreprocessorConfig(layout.preprocessorConfig, layout.files.preprocessorConfig, encoderSize);
  } catch (e) {
    if (e instanceof PreprocessorConfigError) {
      const detail = e.message.slice(e.file.length + 2);
      const tail = /encoder takes/.test(detail) ? ` (${layout.files.encoder})` : '';
      throw new CaptionerLayoutError('preprocessor config', e.file, detail + tail);
    }
    throw e;
  }
}
