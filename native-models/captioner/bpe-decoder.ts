// GPT-2's byte-level BPE, decoding direction only (ids -> text), as a captioner needs it.
//
// A byte-level BPE token is a string of "byte characters": every byte of the UTF-8 text is stored
// as one printable character (GPT-2's bytes_to_unicode: printable Latin-1 bytes as themselves, the
// other 68 bytes as U+0100..U+0143; a space is U+0120 'Ġ', a newline U+010A 'Ċ'). Decoding maps the
// characters of consecutive tokens back to bytes and decodes those bytes as UTF-8 together, so a
// character split over several tokens (an 'é' stored as 'Ã' + '©') comes back whole; invalid or
// unfinished sequences become U+FFFD (GPT-2's errors="replace"). Added tokens (tokenizer.json's
// added_tokens, added_tokens.json) are plain text and are copied as they are, as Hugging Face does.
// Special tokens are skipped (skip_special_tokens=True) and the result is trimmed.
//
// Files read: vocab.json + merges.txt (the slow GPT2Tokenizer's files), or tokenizer.json (the fast
// tokenizer's: model.type "BPE" with a ByteLevel decoder). Merges are not needed to decode; they
// are only checked for being well formed.
import { existsSync, readFileSync } from 'node:fs';
import { BYTE_DECODER } from '../clip/tokenizer/bytes.ts';

export class TokenizerFileError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TokenizerFileError';
    this.file = file;
  }
}

export interface ByteLevelDecodeOptions {
  /** Skip special tokens (default true). */
  skipSpecialTokens?: boolean;
  /** Hugging Face's clean_up_tokenization_spaces (" ." -> ".", " n't" -> "n't", ...); default: as the
   * tokenizer config says (false when it says nothing). */
  cleanUpSpaces?: boolean;
  /** Trim surrounding whitespace (default true). */
  trim?: boolean;
}

function readJsonObject(file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TokenizerFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TokenizerFileError(file, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

/** Token strings named by a special_tokens_map.json / tokenizer_config.json object. */
export function specialTokenStrings(map: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    const t = tokenContent(map[key]);
    if (t !== null) out.push(t);
  }
  const extra = map.additional_special_tokens;
  if (Array.isArray(extra)) for (const e of extra) {
    const t = tokenContent(e);
    if (t !== null) out.push(t);
  }
  return out;
}

function checkVocab(file: string, raw: unknown): Map<string, number> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TokenizerFileError(file, 'the vocabulary must be an object of token -> id');
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new TokenizerFileError(file, `token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}, expected a non-negative integer`);
    vocab.set(tok, id);
  }
  if (vocab.size === 0) throw new TokenizerFileError(file, 'the vocabulary is empty');
  return vocab;
}

/** Checks merges.txt: an optional "#version" header, then one "left right" pair per line. */
export function checkMergesFile(file: string): number {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  let n = 0;
  for (const [i, line] of lines.entries()) {
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new TokenizerFileError(file, `line ${i + 1} is not a merge ("left right"): ${JSON.stringify(line.slice(0, 80))}`);
    n++;
  }
  return n;
}

export interface ByteLevelSources {
  /** The file the vocabulary came from (named in errors about it). */
  file: string;
  vocab: Map<string, number>;
  /** Added tokens: plain text, by id. */
  added: Map<number, { content: string; special: boolean }>;
  /** Token strings that are special wherever they are (special_tokens_map.json, tokenizer_config.json). */
  specialTokens: string[];
  /** Ids that are special whatever their text (the model config's bos / eos / pad / decoder start). */
  specialIds: number[];
  cleanUpSpaces: boolean;
}

export class ByteLevelBpeDecoder {
  /** The file the vocabulary was read from. */
  readonly file: string;
  /** max id + 1 over the vocabulary and the added tokens: the width a model's logits must have. */
  readonly size: number;
  readonly specialIds: ReadonlySet<number>;
  readonly cleanUpSpaces: boolean;
  private readonly byId: (string | undefined)[];
  private readonly addedIds: ReadonlySet<number>;

  constructor(src: ByteLevelSources) {
    this.file = src.file;
    let max = -1;
    for (const id of src.vocab.values()) max = Math.max(max, id);
    for (const id of src.added.keys()) max = Math.max(max, id);
    this.size = max + 1;
    this.byId = new Array<string | undefined>(this.size);
    for (const [tok, id] of src.vocab) this.byId[id] = tok;
    for (const [id, t] of src.added) this.byId[id] = t.content;
    this.addedIds = new Set(src.added.keys());
    const special = new Set<number>(src.specialIds);
    for (const [id, t] of src.added) if (t.special) special.add(id);
    for (const s of src.specialTokens) {
      const id = src.vocab.get(s);
      if (id !== undefined) special.add(id);
      for (const [aid, t] of src.added) if (t.content === s) special.add(aid);
    }
    this.specialIds = special;
    this.cleanUpSpaces = src.cleanUpSpaces;
  }

  /** The token string of `id` (byte characters for a vocabulary token), or undefined. */
  token(id: number): string | undefined {
    return this.byId[id];
  }

  decode(ids: readonly number[], options: ByteLevelDecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) out += decoder.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (skip && this.specialIds.has(id)) continue;
      const tok = this.byId[id];
      if (tok === undefined) continue; // an id past the vocabulary (padded logits): no text
      if (this.addedIds.has(id)) {
        flush();
        out += tok;
        continue;
      }
      for (const ch of tok) {
        const b = BYTE_DECODER.get(ch);
        if (b !== undefined) bytes.push(b);
        else for (const u of new TextEncoder().encode(ch)) bytes.push(u); // not a byte character: its own UTF-8
      }
    }
    flush();
    if (options.cleanUpSpaces ?? this.cleanUpSpaces) out = cleanUpTokenizationSpaces(out);
    return (options.trim ?? true) ? out.trim() : out;
  }

  /**
   * Reads a tokenizer folder's files. `files` names what exists: tokenizer.json, or vocab.json +
   * merges.txt (with optional added_tokens.json); special_tokens_map.json and tokenizer_config.json
   * are read when given. `specialIds`: ids from the model config that are special too.
   */
  static fromFiles(files: { tokenizerJson?: string | null; vocab?: string | null; merges?: string | null; addedTokens?: string | null; specialTokensMap?: string | null; tokenizerConfig?: string | null }, specialIds: readonly number[] = []): ByteLevelBpeDecoder {
    const specialTokens: string[] = [];
    let cleanUp = false;
    if (files.specialTokensMap && existsSync(files.specialTokensMap)) specialTokens.push(...specialTokenStrings(readJsonObject(files.specialTokensMap)));
    if (files.tokenizerConfig && existsSync(files.tokenizerConfig)) {
      const cfg = readJsonObject(files.tokenizerConfig);
      specialTokens.push(...specialTokenStrings(cfg));
      cleanUp = cfg.clean_up_tokenization_spaces === true;
      const decoderMap = cfg.added_tokens_decoder;
      if (decoderMap && typeof decoderMap === 'object') {
        for (const v of Object.values(decoderMap as Record<string, unknown>)) {
          if (v && typeof v === 'object' && (v as { special?: unknown }).special === true) {
            const t = tokenContent(v);
            if (t !== null) specialTokens.push(t);
          }
        }
      }
    }
    const added = new Map<number, { content: string; special: boolean }>();
    if (files.tokenizerJson) {
      const file = files.tokenizerJson;
      const tj = readJsonObject(file);
      const model = tj.model as Record<string, unknown> | undefined;
      if (!model || typeof model !== 'object') throw new TokenizerFileError(file, 'no "model" section');
      if (model.type !== undefined && model.type !== 'BPE') throw new TokenizerFileError(file, `model.type is ${JSON.stringify(model.type)}; only byte-level BPE tokenizers (GPT-2 style) are supported`);
      if (!isByteLevel(tj.decoder)) throw new TokenizerFileError(file, `the decoder is ${JSON.stringify((tj.decoder as { type?: unknown } | null)?.type ?? null)}, not ByteLevel; only byte-level BPE tokenizers (GPT-2 style) are supported`);
      const vocab = checkVocab(file, model.vocab);
      if (Array.isArray(tj.added_tokens)) {
        for (const t of tj.added_tokens as unknown[]) {
          const o = t as { id?: unknown; content?: unknown; special?: unknown };
          if (typeof o?.id !== 'number' || typeof o.content !== 'string') throw new TokenizerFileError(file, `added_tokens entry ${JSON.stringify(t)} needs an integer id and a string content`);
          added.set(o.id, { content: o.content, special: o.special === true });
        }
      }
      // an added token that is also in the vocabulary (GPT-2's <|endoftext|>) is a vocabulary token
      for (const [id, t] of [...added]) if (vocab.get(t.content) === id && !t.special) added.delete(id);
      return new ByteLevelBpeDecoder({ file, vocab, added, specialTokens, specialIds: [...specialIds], cleanUpSpaces: cleanUp });
    }
    if (!files.vocab) throw new TokenizerFileError('vocab.json', 'missing (a byte-level BPE tokenizer needs vocab.json + merges.txt, or tokenizer.json)');
    const file = files.vocab;
    if (!existsSync(file)) throw new TokenizerFileError(file, 'missing (a byte-level BPE tokenizer needs vocab.json + merges.txt, or tokenizer.json)');
    const vocab = checkVocab(file, readJsonObject(file));
    if (!files.merges || !existsSync(files.merges)) throw new TokenizerFileError(files.merges ?? 'merges.txt', 'missing (vocab.json comes with merges.txt, as GPT-2 tokenizers are saved)');
    checkMergesFile(files.merges);
    if (files.addedTokens && existsSync(files.addedTokens)) {
      const at = readJsonObject(files.addedTokens);
      for (const [content, id] of Object.entries(at)) {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new TokenizerFileError(files.addedTokens, `token ${JSON.stringify(content)} has id ${JSON.stringify(id)}`);
        if (vocab.get(content) !== id) added.set(id, { content, special: false });
      }
    }
    return new ByteLevelBpeDecoder({ file, vocab, added, specialTokens, specialIds: [...specialIds], cleanUpSpaces: cleanUp });
  }
}

function isByteLevel(decoder: unknown): boolean {
  if (decoder === null || decoder === undefined) return true; // nothing said: GPT-2's files are byte-level
  const d = decoder as { type?: unknown; decoders?: unknown };
  if (d.type === 'ByteLevel') return true;
  return d.type === 'Sequence' && Array.isArray(d.decoders) && d.decoders.some((x) => (x as { type?: unknown })?.type === 'ByteLevel');
}

/** Hugging Face's `clean_up_tokenization`. */
export function cleanUpTokenizationSpaces(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
