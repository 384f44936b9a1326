// CLIP's byte-pair-encoding tokenizer, identical to openai/CLIP clip/simple_tokenizer.py (MIT) and
// clip.tokenize: same cleaning (clean.ts), same pre-tokenising regex, same BPE merge loop, same
// vocabulary layout. Pure: reads its vocabulary files synchronously and nothing else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { resourcesDir } from '../../resources-dir.ts';
import { BYTE_DECODER, BYTE_ENCODER, byteEncode } from './bytes.ts';
import { cleanText, PY_WHITESPACE_CLASS } from './clean.ts';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
/** Ids of the special tokens in CLIP's vocabulary. */
export const START_OF_TEXT_ID = 49406;
export const END_OF_TEXT_ID = 49407;
export const VOCAB_SIZE = 49408;
export const CONTEXT_LENGTH = 77;
export const PAD_ID = 0;
/** The number of merges the reference reads from the .txt.gz (lines 1..48894 after the header). */
export const NUM_MERGES = 49152 - 256 - 2;
const END_OF_WORD = '</w>';

/** The reference's pre-tokenising regex (compiled there with re.IGNORECASE), with `\s` as Python's. */
export const CLIP_PATTERN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_WHITESPACE_CLASS}\\p{L}\\p{N}]+`,
  'giu',
);

export interface TokenizerOptions {
  /** Apply the ftfy.fix_text approximation as the reference applies ftfy (default true). */
  fixText?: boolean;
}

export interface EncodeBatchOptions {
  contextLength?: number;
  padId?: number;
  /** Cut sequences longer than contextLength, keeping the end token last (default true, as
   * clip.tokenize(..., truncate=True)); false throws on them as clip.tokenize(truncate=False). */
  truncate?: boolean;
}

export interface EncodedBatch {
  /** [texts.length, contextLength], row-major, padded with padId. */
  ids: BigInt64Array;
  /** Tokens per row before padding (start and end tokens included): the end token is at lengths[i] - 1. */
  lengths: number[];
  shape: [number, number];
}

export interface DecodeOptions {
  /** Leave out the start and end tokens and padding (ids after the first end token). Default false:
   * the reference's decode prints the special tokens as text. */
  skipSpecialTokens?: boolean;
}

export class ClipTokenizer {
  readonly vocabSize: number;
  readonly startId: number;
  readonly endId: number;
  readonly numMerges: number;
  /** Where the vocabulary came from (for messages). */
  readonly source: string;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  /** (first id, second id) -> rank */
  private readonly ranks: PairTable;
  /** rank -> id of the merged symbol */
  private readonly mergedIds: Int32Array;
  private readonly charIds = new Map<string, number>();
  private readonly charEndIds = new Map<string, number>();
  private readonly fixText: boolean;
  private readonly cache = new Map<string, number[]>();
  private static readonly CACHE_LIMIT = 200_000;
  private static defaultInstance: ClipTokenizer | null = null;

  private constructor(encoder: Map<string, number>, merges: Array<[string, string]>, source: string, options: TokenizerOptions) {
    this.source = source;
    this.encoder = encoder;
    this.fixText = options.fixText !== false;
    let maxId = -1;
    for (const id of encoder.values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    this.decoder = new Array<string>(this.vocabSize);
    for (const [token, id] of encoder) this.decoder[id] = token;
    for (const c of BYTE_ENCODER) {
      const a = encoder.get(c);
      const b = encoder.get(c + END_OF_WORD);
      if (a === undefined || b === undefined) {
        throw new Error(`${source}: not a CLIP byte-level vocabulary: byte symbol ${JSON.stringify(a === undefined ? c : c + END_OF_WORD)} is missing`);
      }
      this.charIds.set(c, a);
      this.charEndIds.set(c, b);
    }
    const start = encoder.get(START_OF_TEXT);
    const end = encoder.get(END_OF_TEXT);
    if (start === undefined || end === undefined) {
      throw new Error(`${source}: the vocabulary has no ${start === undefined ? START_OF_TEXT : END_OF_TEXT} token`);
    }
    this.startId = start;
    this.endId = end;
    this.mergedIds = new Int32Array(merges.length);
    this.ranks = new PairTable(merges.length);
    merges.forEach(([a, b], rank) => {
      const ia = encoder.get(a);
      const ib = encoder.get(b);
      const merged = encoder.get(a + b);
      if (merged === undefined) throw new Error(`${source}: merge ${rank + 1} "${a} ${b}" gives "${a + b}", which is not in the vocabulary`);
      // A merge whose parts are not symbols can never apply (the reference keeps it, unused).
      if (ia === undefined || ib === undefined) return;
      // dict(zip(merges, range(len(merges)))): a repeated pair keeps its last rank.
      this.ranks.set(ia, ib, rank);
      this.mergedIds[rank] = merged;
    });
    this.numMerges = merges.length;
    this.cache.set(START_OF_TEXT, [start]);
    this.cache.set(END_OF_TEXT, [end]);
  }

  /** openai/CLIP's bpe_simple_vocab_16e6.txt.gz, read exactly as simple_tokenizer.py does. */
  static fromBpeGz(path: string, options: TokenizerOptions = {}): ClipTokenizer {
    let text: string;
    try {
      text = gunzipSync(readFileSync(path)).toString('utf8');
    } catch (e) {
      throw new Error(`${path}: cannot read the CLIP BPE file (${(e as Error).message})`);
    }
    // Only the first NUM_MERGES + 1 lines are used (the file has 262146): cut there before splitting.
    let end = -1;
    for (let i = 0; i <= NUM_MERGES + 1 && (i === 0 || end >= 0); i++) end = text.indexOf('\n', end + 1);
    const lines = (end >= 0 ? text.slice(0, end) : text).split('\n').slice(1, NUM_MERGES + 1);
    if (lines.length < NUM_MERGES) throw new Error(`${path}: expected ${NUM_MERGES} merges after the header, found ${lines.length}`);
    const merges = lines.map((line, i) => splitMerge(line, `${path} line ${i + 2}`));
    const vocab: string[] = [...BYTE_ENCODER_IN_REFERENCE_ORDER];
    for (const v of BYTE_ENCODER_IN_REFERENCE_ORDER) vocab.push(v + END_OF_WORD);
    for (const [a, b] of merges) vocab.push(a + b);
    vocab.push(START_OF_TEXT, END_OF_TEXT);
    const encoder = new Map<string, number>();
    vocab.forEach((token, id) => encoder.set(token, id)); // later duplicates win, as dict(zip(...))
    return new ClipTokenizer(encoder, merges, path, options);
  }

  /** Hugging Face CLIPTokenizer files: vocab.json (token -> id) and merges.txt ('#version' header). */
  static fromVocabMerges(vocabJsonPath: string, mergesTxtPath: string, options: TokenizerOptions = {}): ClipTokenizer {
    const vocab = parseJsonFile(vocabJsonPath, z.record(z.string(), z.number().int().nonnegative()));
    let lines = readText(mergesTxtPath).split('\n');
    if (lines.length > 0 && lines[0].startsWith('#version')) lines = lines.slice(1);
    const merges = lines
      .map((l, i) => [l.trim(), i] as const)
      .filter(([l]) => l.length > 0)
      .map(([l, i]) => splitMerge(l, `${mergesTxtPath} line ${i + 2}`));
    return new ClipTokenizer(new Map(Object.entries(vocab)), merges, `${vocabJsonPath} + ${mergesTxtPath}`, options);
  }

  /** A Hugging Face fast-tokenizer tokenizer.json (model.vocab, model.merges as "a b" or [a, b]). */
  static fromTokenizerJson(path: string, options: TokenizerOptions = {}): ClipTokenizer {
    const schema = z.object({
      model: z.object({
        type: z.string().optional(),
        vocab: z.record(z.string(), z.number().int().nonnegative()),
        merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
        end_of_word_suffix: z.string().nullable().optional(),
      }),
      added_tokens: z.array(z.object({ id: z.number().int().nonnegative(), content: z.string() })).optional(),
    });
    const json = parseJsonFile(path, schema);
    if (json.model.type !== undefined && json.model.type !== 'BPE') throw new Error(`${path}: model.type is "${json.model.type}", expected "BPE"`);
    const suffix = json.model.end_of_word_suffix;
    if (suffix !== undefined && suffix !== null && suffix !== END_OF_WORD) {
      throw new Error(`${path}: model.end_of_word_suffix is "${suffix}", CLIP's BPE uses "${END_OF_WORD}"`);
    }
    const encoder = new Map(Object.entries(json.model.vocab));
    for (const t of json.added_tokens ?? []) if (!encoder.has(t.content)) encoder.set(t.content, t.id);
    const merges = json.model.merges.map((m, i) => (typeof m === 'string' ? splitMerge(m, `${path} model.merges[${i}]`) : m));
    return new ClipTokenizer(encoder, merges, path, options);
  }

  /** The tokenizer shipped with the app (resources/clip/bpe_simple_vocab_16e6.txt.gz), loaded once. */
  static default(): ClipTokenizer {
    ClipTokenizer.defaultInstance ??= ClipTokenizer.fromBpeGz(join(resourcesDir(), 'clip', 'bpe_simple_vocab_16e6.txt.gz'));
    return ClipTokenizer.defaultInstance;
  }

  /** [startId, ...bpe ids, endId], unpadded and not truncated (simple_tokenizer encode + clip.tokenize framing). */
  encode(text: string): number[] {
    const out = [this.startId];
    this.encodeInto(text, out);
    out.push(this.endId);
    return out;
  }

  /** The BPE ids alone, as SimpleTokenizer.encode returns them (no start/end tokens). */
  encodeBare(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  /** clip.tokenize: rows of contextLength ids padded with padId; truncation keeps the end token last. */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): EncodedBatch {
    const contextLength = options.contextLength ?? CONTEXT_LENGTH;
    const padId = options.padId ?? PAD_ID;
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new RangeError(`contextLength must be an integer >= 2, got ${contextLength}`);
    const ids = new BigInt64Array(texts.length * contextLength);
    if (padId !== 0) ids.fill(BigInt(padId));
    const lengths: number[] = [];
    texts.forEach((text, row) => {
      let tokens = this.encode(text);
      if (tokens.length > contextLength) {
        if (options.truncate === false) {
          throw new RangeError(`text ${row} is ${tokens.length} tokens long, more than the context length ${contextLength}: ${JSON.stringify(text.slice(0, 80))}`);
        }
        tokens = tokens.slice(0, contextLength);
        tokens[contextLength - 1] = this.endId;
      }
      const base = row * contextLength;
      for (let i = 0; i < tokens.length; i++) ids[base + i] = BigInt(tokens[i]);
      lengths.push(tokens.length);
    });
    return { ids, lengths, shape: [texts.length, contextLength] };
  }

  /** SimpleTokenizer.decode: tokens joined, bytes decoded as UTF-8 with replacement, '</w>' -> ' '. */
  decode(ids: Iterable<number | bigint>, options: DecodeOptions = {}): string {
    const bytes: number[] = [];
    for (const raw of ids) {
      const id = Number(raw);
      if (options.skipSpecialTokens) {
        if (id === this.endId) break;
        if (id === this.startId) continue;
      }
      const token = Number.isInteger(id) && id >= 0 ? this.decoder[id] : undefined;
      if (token === undefined) throw new RangeError(`token id ${String(raw)} is not in the vocabulary (${this.vocabSize} ids)`);
      for (const c of token) {
        const b = BYTE_DECODER.get(c);
        if (b === undefined) throw new RangeError(`token ${id} (${JSON.stringify(token)}) has a character that is not a byte symbol`);
        bytes.push(b);
      }
    }
    return utf8Decoder.decode(new Uint8Array(bytes)).replaceAll(END_OF_WORD, ' ');
  }

  /** The token string of an id (as the vocabulary spells it), or undefined. */
  idToToken(id: number): string | undefined {
    return this.decoder[id];
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.encoder.get(token);
  }

  private encodeInto(text: string, out: number[]): void {
    const clean = cleanText(text, { fixText: this.fixText });
    CLIP_PATTERN.lastIndex = 0;
    for (const match of clean.matchAll(CLIP_PATTERN)) {
      const token = match[0];
      let ids = this.cache.get(token);
      if (ids === undefined) {
        ids = this.bpe(byteEncode(token));
        if (this.cache.size >= ClipTokenizer.CACHE_LIMIT) {
          this.cache.clear();
          this.cache.set(START_OF_TEXT, [this.startId]);
          this.cache.set(END_OF_TEXT, [this.endId]);
        }
        this.cache.set(token, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  /** The reference's bpe() on symbol ids: repeatedly merge every occurrence of the lowest-ranked pair. */
  private bpe(token: string): number[] {
    const n = token.length; // byte symbols are single UTF-16 units
    let word: number[] = new Array<number>(n);
    for (let i = 0; i < n - 1; i++) word[i] = this.charIds.get(token[i])!;
    word[n - 1] = this.charEndIds.get(token[n - 1])!;
    while (word.length > 1) {
      let best = -1;
      let bestFirst = 0;
      let bestSecond = 0;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(word[i], word[i + 1]);
        if (r >= 0 && (best < 0 || r < best)) {
          best = r;
          bestFirst = word[i];
          bestSecond = word[i + 1];
        }
      }
      if (best < 0) break;
      const merged = this.mergedIds[best];
      const next: number[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === bestFirst && i < word.length - 1 && word[i + 1] === bestSecond) {
          next.push(merged);
          i += 2;
        } else {
          next.push(word[i]);
          i += 1;
        }
      }
      word = next;
    }
    return word;
  }
}

/** An open-addressing hash map (int, int) -> non-negative int in typed arrays: fast to build and to
 * query, no garbage (a Map keyed by first * vocabSize + second costs ~100 ms to build). */
class PairTable {
  private readonly mask: number;
  private readonly keysA: Int32Array;
  private readonly keysB: Int32Array;
  private readonly values: Int32Array;
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keysA = new Int32Array(size).fill(-1);
    this.keysB = new Int32Array(size);
    this.values = new Int32Array(size);
  }
  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 7 & this.mask;
  }
  set(a: number, b: number, value: number): void {
    let i = this.slot(a, b);
    while (this.keysA[i] !== -1 && !(this.keysA[i] === a && this.keysB[i] === b)) i = (i + 1) & this.mask;
    this.keysA[i] = a;
    this.keysB[i] = b;
    this.values[i] = value;
  }
  /** The value, or -1. */
  get(a: number, b: number): number {
    let i = this.slot(a, b);
    for (;;) {
      const ka = this.keysA[i];
      if (ka === -1) return -1;
      if (ka === a && this.keysB[i] === b) return this.values[i];
      i = (i + 1) & this.mask;
    }
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The byte symbols in the order bytes_to_unicode().values() lists them (printable bytes first). */
const BYTE_ENCODER_IN_REFERENCE_ORDER: readonly string[] = (() => {
  const printable: string[] = [];
  const rest: string[] = [];
  BYTE_ENCODER.forEach((c, b) => (c.charCodeAt(0) === b ? printable : rest).push(c));
  return [...printable, ...rest];
})();

function splitMerge(line: string, where: string): [string, string] {
  const sp = line.indexOf(' ');
  if (sp > 0 && sp < line.length - 1 && line.indexOf(' ', sp + 1) < 0 && !/[^\S ]/.test(line)) return [line.slice(0, sp), line.slice(sp + 1)];
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new Error(`${where}: a merge must be two symbols separated by a space, got ${JSON.stringify(line)}`);
  return [parts[0], parts[1]];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the tokenizer file (${(e as Error).message})`);
  }
}

function parseJsonFile<T>(path: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: not a tokenizer file of the expected form: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
