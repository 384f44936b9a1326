// CLIP BPE tokenizer: equal to openai/CLIP's simple_tokenizer.py on the golden sample and on the
// extended cases made by the reference (test/fixtures/clip/README.md), the same ids from every
// vocabulary format, clip.tokenize's padding and truncation, decode, and the ftfy approximation.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BYTE_DECODER,
  BYTE_ENCODER,
  ClipTokenizer,
  CONTEXT_LENGTH,
  END_OF_TEXT_ID,
  START_OF_TEXT_ID,
  VOCAB_SIZE,
  bytesToUnicode,
  htmlUnescape,
} from '../../../native-models/clip/tokenizer/index.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(REPO, 'test', 'fixtures', 'clip');
const BPE_GZ = join(REPO, 'resources', 'clip', 'bpe_simple_vocab_16e6.txt.gz');

interface Case { text: string; ids: number[]; decoded?: string }
const golden: Case[] = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer_golden_sample.json'), 'utf8')).cases;
const extended: Case[] = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer_extended_cases.json'), 'utf8')).cases;
const unescapeCases: Array<{ input: string; once: string; twice: string }> = JSON.parse(
  readFileSync(join(FIXTURES, 'html_unescape_cases.json'), 'utf8'),
);

const tok = ClipTokenizer.default();
/** As the fixtures were made: ftfy.fix_text as the identity. */
const raw = ClipTokenizer.fromBpeGz(BPE_GZ, { fixText: false });

describe('ClipTokenizer: reference ids', () => {
  it('loads the shipped vocabulary with the reference layout', () => {
    expect(tok.vocabSize).toBe(VOCAB_SIZE);
    expect([tok.startId, tok.endId]).toEqual([START_OF_TEXT_ID, END_OF_TEXT_ID]);
    expect([START_OF_TEXT_ID, END_OF_TEXT_ID, CONTEXT_LENGTH]).toEqual([49406, 49407, 77]);
    expect(tok.numMerges).toBe(48894);
    expect(tok.idToToken(0)).toBe('!');
    expect(tok.idToToken(256)).toBe('!</w>');
    expect(tok.idToToken(49405)).toBe('jeky ll</w>'.replace(' ', ''));
    expect(tok.idToToken(49406)).toBe('<|startoftext|>');
  });

  it('gives the reference ids for every string of the golden sample', () => {
    expect(golden.length).toBe(147);
    const wrong = golden.filter((c) => JSON.stringify(tok.encode(c.text)) !== JSON.stringify(c.ids));
    expect(wrong.map((c) => c.text)).toEqual([]);
    for (const c of golden) expect(raw.encode(c.text)).toEqual(c.ids);
  });

  it('gives the reference ids and decode on the extended cases (Unicode, emoji, entities, long texts)', () => {
    for (const c of extended) {
      expect(raw.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
      expect(raw.decode(c.ids), JSON.stringify(c.text)).toBe(c.decoded);
    }
  });

  it('matches the extended cases with the ftfy approximation on where ftfy leaves the text alone', () => {
    const changedByFtfy = new Set(['e\u0301 (combining)', 'nel\u0085x', 'bom\ufeffx', 'ctrl\x1cchar', 'tab\tand\x0bvt', 'ǅ ǲ ǈ',
      '\ufb01sh \uff21\uff22\uff23 \u201ccurly\u201d \u2018quotes\u2019']);
    for (const c of extended) {
      if (!changedByFtfy.has(c.text)) expect(tok.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
    }
  });

  it('encodes the special tokens written in the text as the special ids, as the reference does', () => {
    expect(tok.encode('<|startoftext|>a dog<|endoftext|>')).toEqual([49406, 49406, 320, 1929, 49407, 49407]);
    expect(tok.encode('')).toEqual([49406, 49407]);
    expect(tok.encodeBare('a dog')).toEqual([320, 1929]);
  });
});

describe('text cleaning', () => {
  it('ports html.unescape with Python\'s tables and quirks', () => {
    for (const c of unescapeCases) {
      expect(htmlUnescape(c.input), JSON.stringify(c.input)).toBe(c.once);
      expect(htmlUnescape(htmlUnescape(c.input)), JSON.stringify(c.input)).toBe(c.twice);
    }
  });

  it('approximates ftfy.fix_text: quotes, ligatures, width, NFC, C1, escapes, control characters', () => {
    const same = (a: string, b: string) => expect(tok.encode(a), JSON.stringify(a)).toEqual(raw.encode(b));
    same('it\u2019s a dog\u2019s life', "it's a dog's life");
    same('\u201ca photo\u201d', '"a photo"');
    same('\ufb01sh \ufb02ower', 'fish flower');
    same('\uff21\uff22\uff23\u3000\uff11\uff12', 'ABC 12');
    same('cafe\u0301', 'caf\u00e9');
    same('\u0093quoted\u0094', '"quoted"');
    same('\u001b[31mred\u001b[0m car', 'red car');
    same('zero\ufeffwidth\u0000', 'zerowidth');
    same('a &amp;amp;amp; b', 'a & b'); // ftfy unescapes until nothing changes ...
    same('<b>&amp;amp;amp;</b>', '<b>&amp;amp;amp;</b>'); // ... but not in text that looks like HTML:
    expect(tok.encode('<b>&amp;amp;amp;</b>')).not.toEqual(tok.encode('<b>&</b>')); // only basic_clean's two passes
    same('&NTILDE;', '\u00d1');
    same('line\r\nbreak', 'line break');
  });

  it('cleans whitespace and case as the reference (Python \\s, str.strip, str.lower)', () => {
    expect(raw.encode(' \t A   Photo\n\n OF a DOG \u3000')).toEqual(raw.encode('a photo of a dog'));
    expect(raw.encode('\u0085x\u00a0y\u2028')).toEqual(raw.encode('x y'));
  });
});

describe('vocabulary formats', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'factorlab-clip-tok-'));
    const merges = gunzipSync(readFileSync(BPE_GZ)).toString('utf8').split('\n').slice(1, 48895);
    const vocab: Record<string, number> = {};
    for (let id = 0; id < VOCAB_SIZE; id++) vocab[tok.idToToken(id)!] = id;
    await writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab));
    await writeFile(join(dir, 'merges.txt'), '#version: 0.2\n' + merges.join('\n') + '\n');
    const model = { type: 'BPE', dropout: null, unk_token: '<|endoftext|>', continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, vocab };
    const added = [{ id: 49406, content: '<|startoftext|>', special: true }, { id: 49407, content: '<|endoftext|>', special: true }];
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: added, model: { ...model, merges } }));
    await writeFile(join(dir, 'tokenizer-pairs.json'), JSON.stringify({ version: '1.0', added_tokens: added, model: { ...model, merges: merges.map((m) => m.split(' ')) } }));
    await writeFile(join(dir, 'wordpiece.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: { a: 0 }, merges: [] } }));
    const partial = { ...vocab };
    delete partial['\u0120'];
    await writeFile(join(dir, 'partial-vocab.json'), JSON.stringify(partial));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('vocab.json + merges.txt and tokenizer.json (string and pair merges) give the ids of the .gz', () => {
    const fromFiles = [
      ClipTokenizer.fromVocabMerges(join(dir, 'vocab.json'), join(dir, 'merges.txt')),
      ClipTokenizer.fromTokenizerJson(join(dir, 'tokenizer.json')),
      ClipTokenizer.fromTokenizerJson(join(dir, 'tokenizer-pairs.json')),
    ];
    for (const t of fromFiles) {
      expect(t.vocabSize).toBe(VOCAB_SIZE);
      expect([t.startId, t.endId]).toEqual([49406, 49407]);
      for (const c of [...golden, ...extended]) expect(t.encode(c.text)).toEqual(tok.encode(c.text));
      expect(t.decode(golden[0].ids)).toBe(tok.decode(golden[0].ids));
    }
  });

  it('refuses files that are not a CLIP BPE vocabulary, naming the file', () => {
    expect(() => ClipTokenizer.fromTokenizerJson(join(dir, 'wordpiece.json'))).toThrow(/wordpiece\.json: model\.type is "WordPiece"/);
    expect(() => ClipTokenizer.fromVocabMerges(join(dir, 'partial-vocab.json'), join(dir, 'merges.txt'))).toThrow(/partial-vocab\.json.*byte symbol/);
    expect(() => ClipTokenizer.fromVocabMerges(join(dir, 'missing.json'), join(dir, 'merges.txt'))).toThrow(/missing\.json: cannot read/);
    expect(() => ClipTokenizer.fromBpeGz(join(dir, 'merges.txt'))).toThrow(/merges\.txt: cannot read the CLIP BPE file/);
  });
});

describe('encodeBatch (clip.tokenize)', () => {
  it('pads with 0 to 77 and reports lengths', () => {
    const texts = ['a diagram', 'a dog', 'a cat'];
    const { ids, lengths, shape } = tok.encodeBatch(texts);
    expect(shape).toEqual([3, 77]);
    expect(ids).toBeInstanceOf(BigInt64Array);
    expect(ids.length).toBe(3 * 77);
    texts.forEach((t, r) => {
      const row = Array.from(ids.subarray(r * 77, (r + 1) * 77), Number);
      const want = tok.encode(t);
      expect(lengths[r]).toBe(want.length);
      expect(row).toEqual([...want, ...new Array(77 - want.length).fill(0)]);
    });
  });

  it('truncates at 77 keeping <|endoftext|> last, or throws with truncate: false', () => {
    const long = 'a photo of a ' + 'very '.repeat(100) + 'long prompt.';
    expect(tok.encode(long).length).toBe(109);
    const { ids, lengths } = tok.encodeBatch([long, 'short']);
    const row = Array.from(ids.subarray(0, 77), Number);
    expect(lengths[0]).toBe(77);
    expect(row[0]).toBe(49406);
    expect(row[76]).toBe(49407);
    expect(row.slice(0, 76)).toEqual(tok.encode(long).slice(0, 76));
    const exact = 'x '.repeat(75); // 75 tokens + start + end = 77: not cut
    expect(Array.from(tok.encodeBatch([exact]).ids, Number)).toEqual(tok.encode(exact));
    expect(() => tok.encodeBatch([long], { truncate: false })).toThrow(/109 tokens long, more than the context length 77/);
  });

  it('takes another context length and pad id', () => {
    const { ids, lengths, shape } = tok.encodeBatch(['a photo of a dog', 'a'], { contextLength: 5, padId: 49407 });
    expect(shape).toEqual([2, 5]);
    expect(lengths).toEqual([5, 3]);
    expect(Array.from(ids, Number)).toEqual([49406, 320, 1125, 539, 49407, 49406, 320, 49407, 49407, 49407]);
  });
});

describe('decode', () => {
  it('round-trips ASCII text up to the reference spacing', () => {
    for (const c of golden) {
      const text = tok.decode(c.ids, { skipSpecialTokens: true });
      expect(text.replace(/\s+/g, '')).toBe(c.text.toLowerCase().replace(/\s+/g, ''));
      expect(tok.encode(text)).toEqual(c.ids);
    }
    expect(tok.decode(tok.encode('a photo of a tench.'))).toBe('<|startoftext|>a photo of a tench . <|endoftext|>');
    expect(tok.decode(tok.encodeBatch(['hello world']).ids, { skipSpecialTokens: true })).toBe('hello world ');
  });

  it('decodes Unicode and refuses unknown ids', () => {
    expect(tok.decode(tok.encode('日本語 😀 café'), { skipSpecialTokens: true })).toBe('日本語 😀 café ');
    expect(tok.decode([171])).toBe('\ufffd'); // a lone UTF-8 continuation byte, replaced as Python does
    expect(() => tok.decode([49408])).toThrow(/49408 is not in the vocabulary/);
  });
});

describe('odd input and speed', () => {
  it('never throws on odd Unicode and gives ids inside the vocabulary', () => {
    const odd = ['\ud800 lone', 'x\udc00', '\u0000\u0001', '🏳️‍🌈', '𝕏', '\u202eabc', 'a'.repeat(5000), '٣٣٣', '\uFFFF\uFFFE'];
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      let s = '';
      for (let j = 0; j < 12; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const cp = seed % 0x30000;
        s += cp >= 0xd800 && cp <= 0xdfff ? ' ' : String.fromCodePoint(cp);
      }
      odd.push(s);
    }
    for (const s of odd) {
      const ids = tok.encode(s);
      expect(ids[0]).toBe(49406);
      expect(ids[ids.length - 1]).toBe(49407);
      for (const id of ids) expect(id >= 0 && id < VOCAB_SIZE).toBe(true);
    }
  });

  it('exports the byte encoder', () => {
    expect(BYTE_ENCODER.length).toBe(256);
    expect(new Set(BYTE_ENCODER).size).toBe(256);
    expect([BYTE_ENCODER[0x21], BYTE_ENCODER[0x20], BYTE_ENCODER[0], BYTE_ENCODER[0xad]]).toEqual(['!', '\u0120', '\u0100', '\u0143']);
    for (let b = 0; b < 256; b++) expect(BYTE_DECODER.get(BYTE_ENCODER[b])).toBe(b);
    expect(bytesToUnicode().map(([, c]) => c)).toEqual(Array.from({ length: 256 }, (_, i) => tok.idToToken(i)));
  });

  it('encodes 10,000 zero-shot prompts in well under a second', () => {
    const templates = ['a photo of a {}.', 'a bad photo of the {}.', 'a sculpture of a {}.', 'the origami {}.', 'a drawing of a {}.'];
    const names: string[] = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer_golden_sample.json'), 'utf8')).cases.map((c: Case) => c.text);
    const prompts = Array.from({ length: 10_000 }, (_, i) => templates[i % 5].replace('{}', names[i % names.length] + ' ' + (i % 97)));
    const fresh = ClipTokenizer.fromBpeGz(BPE_GZ);
    const t0 = performance.now();
    const batch = fresh.encodeBatch(prompts);
    const ms = performance.now() - t0;
    expect(batch.shape).toEqual([10_000, 77]);
    expect(ms).toBeLessThan(1000);
  });
});
