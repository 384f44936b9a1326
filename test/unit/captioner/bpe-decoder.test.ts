/**
 * Byte-level BPE decoding (GPT-2's format) on a hand-written vocabulary fragment
 * (test/fixtures/captioner/gpt2-fragment): Ġ word starts, a multi-byte UTF-8 character split over
 * tokens, an emoji, a newline, special tokens skipped, unfinished byte sequences, tokenizer.json.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteLevelBpeDecoder, cleanUpTokenizationSpaces, TokenizerFileError } from '../../../native-models/captioner/index.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FRAG = path.join(REPO, 'test/fixtures/captioner/gpt2-fragment');
const files = { vocab: path.join(FRAG, 'vocab.json'), merges: path.join(FRAG, 'merges.txt') };

// ids of the fixture
const EOT = 50256;
const [The, cat, sat, on, the, mat, dot, comma, a, spaceA] = [464, 3797, 3332, 319, 262, 2603, 13, 11, 64, 257];
const [caf, A_TILDE, COPY, E_ACUTE, NEWLINE, SPACE, EMOJI_HEAD, EMOJI_TAIL] = [21121, 127, 102, 2634, 198, 220, 30325, 31643];

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'factorlab-bpe-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('ByteLevelBpeDecoder (GPT-2 vocab.json + merges.txt)', () => {
  const tok = ByteLevelBpeDecoder.fromFiles(files, [EOT]);

  it('has GPT-2 vocabulary size (max id + 1) and the fixture tokens', () => {
    expect(tok.size).toBe(50257);
    expect(tok.token(cat)).toBe('Ġcat');
    expect(tok.token(E_ACUTE)).toBe('Ã©');
  });

  it('joins Ġ-marked words with spaces and skips the end-of-text token', () => {
    expect(tok.decode([The, cat, sat, on, the, mat, dot, EOT])).toBe('The cat sat on the mat.');
    expect(tok.decode([EOT, a, comma, spaceA, cat, EOT])).toBe('a, a cat');
    expect(tok.decode([The, cat, EOT], { skipSpecialTokens: false })).toBe('The cat<|endoftext|>');
  });

  it('decodes the bytes of consecutive tokens together: é from one token or split over two', () => {
    expect(tok.decode([a, caf, E_ACUTE])).toBe('a café');
    expect(tok.decode([a, caf, A_TILDE, COPY])).toBe('a café');
    // 🙂 = F0 9F 99 82, its first two bytes in one token (with the space), the last two in another
    expect(tok.decode([The, EMOJI_HEAD, EMOJI_TAIL, dot])).toBe('The 🙂.');
  });

  it('replaces unfinished or invalid UTF-8 with U+FFFD, as GPT-2 (errors="replace")', () => {
    expect(tok.decode([caf, A_TILDE])).toBe('caf\uFFFD');
    expect(tok.decode([COPY, cat])).toBe('\uFFFD cat');
    expect(tok.decode([The, EMOJI_HEAD])).toBe('The \uFFFD');
  });

  it('keeps newlines inside, trims the ends (unless asked not to), drops unknown ids', () => {
    expect(tok.decode([The, NEWLINE, cat])).toBe('The\n cat');
    expect(tok.decode([SPACE, cat, SPACE])).toBe('cat');
    expect(tok.decode([SPACE, cat], { trim: false })).toBe('  cat');
    expect(tok.decode([The, 40000, cat])).toBe('The cat');
  });

  it('treats special_tokens_map.json tokens as special', async () => {
    await withTemp(async (dir) => {
      const m = path.join(dir, 'special_tokens_map.json');
      await writeFile(m, JSON.stringify({ eos_token: { content: '<|endoftext|>' }, additional_special_tokens: ['!'] }));
      const t = ByteLevelBpeDecoder.fromFiles({ ...files, specialTokensMap: m });
      expect(t.decode([The, 0, cat, EOT])).toBe('The cat');
    });
  });

  it('applies clean_up_tokenization_spaces only when asked', () => {
    expect(cleanUpTokenizationSpaces("a cat , a dog . it 's")).toBe("a cat, a dog. it's");
    expect(tok.decode([The, cat, SPACE, dot], { cleanUpSpaces: true })).toBe('The cat.');
    expect(tok.decode([The, cat, SPACE, dot])).toBe('The cat .');
  });

  it('reads the same vocabulary from tokenizer.json (fast tokenizer, ByteLevel decoder)', async () => {
    const vocab = JSON.parse(await readFile(files.vocab, 'utf8'));
    await withTemp(async (dir) => {
      const p = path.join(dir, 'tokenizer.json');
      await writeFile(p, JSON.stringify({ added_tokens: [{ id: EOT, content: '<|endoftext|>', special: true }], model: { type: 'BPE', vocab, merges: ['Ġ t'] }, decoder: { type: 'ByteLevel' } }));
      const t = ByteLevelBpeDecoder.fromFiles({ tokenizerJson: p });
      expect(t.size).toBe(50257);
      expect(t.decode([The, cat, sat, on, the, mat, dot, EOT])).toBe('The cat sat on the mat.');
      expect(t.decode([a, caf, A_TILDE, COPY])).toBe('a café');
    });
  });

  it('refuses files that are not a byte-level BPE tokenizer, naming the file', async () => {
    await withTemp(async (dir) => {
      const wp = path.join(dir, 'tokenizer.json');
      await writeFile(wp, JSON.stringify({ model: { type: 'WordPiece', vocab: { a: 0 } }, decoder: { type: 'WordPiece' } }));
      expect(() => ByteLevelBpeDecoder.fromFiles({ tokenizerJson: wp })).toThrow(TokenizerFileError);
      expect(() => ByteLevelBpeDecoder.fromFiles({ tokenizerJson: wp })).toThrow(/tokenizer\.json: model\.type is "WordPiece"/);
      const merges = path.join(dir, 'merges.txt');
      await writeFile(merges, '#version: 0.2\nĠ t\nthis line has three\n');
      expect(() => ByteLevelBpeDecoder.fromFiles({ vocab: files.vocab, merges })).toThrow(/merges\.txt: line 3 is not a merge/);
      const badVocab = path.join(dir, 'vocab.json');
      await writeFile(badVocab, JSON.stringify({ a: 'one' }));
      expect(() => ByteLevelBpeDecoder.fromFiles({ vocab: badVocab, merges: files.merges })).toThrow(/vocab\.json: token "a" has id "one"/);
      expect(() => ByteLevelBpeDecoder.fromFiles({ vocab: files.vocab, merges: path.join(dir, 'none.txt') })).toThrow(/none\.txt: missing/);
    });
  });
});
