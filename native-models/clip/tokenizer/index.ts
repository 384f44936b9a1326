// CLIP's BPE tokenizer (openai/CLIP simple_tokenizer.py + clip.tokenize), pure TypeScript.
export {
  ClipTokenizer,
  CLIP_PATTERN,
  CONTEXT_LENGTH,
  END_OF_TEXT,
  END_OF_TEXT_ID,
  NUM_MERGES,
  PAD_ID,
  START_OF_TEXT,
  START_OF_TEXT_ID,
  VOCAB_SIZE,
} from './tokenizer.ts';
export type { DecodeOptions, EncodeBatchOptions, EncodedBatch, TokenizerOptions } from './tokenizer.ts';
export { BYTE_DECODER, BYTE_ENCODER, byteEncode, bytesToUnicode } from './bytes.ts';
export { cleanText, fixText, htmlUnescape, pyStrip } from './clean.ts';
export type { CleanOptions } from './clean.ts';
