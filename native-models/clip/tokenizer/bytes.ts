// CLIP's byte <-> unicode mapping (openai/CLIP simple_tokenizer.py `bytes_to_unicode`, MIT).
// Every byte maps to a printable character so that BPE works on strings with no whitespace or
// control characters: the printable Latin-1 bytes map to themselves, the other 68 bytes (0..32,
// 127..160, 173) to U+0100..U+0143 in byte order.

function bytesToUnicodeTable(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** BYTE_ENCODER[byte] = the character CLIP's BPE uses for that byte (as `bytes_to_unicode()`). */
export const BYTE_ENCODER: readonly string[] = Object.freeze(bytesToUnicodeTable());

/** The inverse of BYTE_ENCODER: character -> byte. */
export const BYTE_DECODER: ReadonlyMap<string, number> = new Map(BYTE_ENCODER.map((c, b) => [c, b]));

/** `bytes_to_unicode()` as the reference's dict order (printable bytes first, then the rest). */
export function bytesToUnicode(): Array<[number, string]> {
  const printable: Array<[number, string]> = [];
  const rest: Array<[number, string]> = [];
  BYTE_ENCODER.forEach((c, b) => (c.charCodeAt(0) === b ? printable : rest).push([b, c]));
  return [...printable, ...rest];
}

const utf8 = new TextEncoder();

/** The UTF-8 bytes of `text` as BYTE_ENCODER characters (lone surrogates become U+FFFD). */
export function byteEncode(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_ENCODER[b];
  return out;
}
