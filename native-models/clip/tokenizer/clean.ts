// Text cleaning exactly as openai/CLIP simple_tokenizer.py does it:
//   basic_clean:      ftfy.fix_text(text); html.unescape(html.unescape(text)); strip()
//   whitespace_clean: re.sub(r'\s+', ' ', text).strip()            (`regex` module semantics)
//   then .lower()
// `htmlUnescape` is a line-by-line port of Python's html.unescape with the standard library's own
// tables (html-entities.ts is generated from them). ftfy cannot be installed offline, so `fixText`
// approximates ftfy.fix_text (6.x defaults): see the comment on fixText for what it does and does not do.
import { HTML5_ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS } from './html-entities.ts';

const html5 = new Map<string, string>(Object.entries(HTML5_ENTITIES));
const invalidCharrefs = new Map<number, string>(Object.entries(INVALID_CHARREFS).map(([k, v]) => [Number(k), v]));
const invalidCodepoints = new Set<number>(INVALID_CODEPOINTS);

/** Python's `regex` module `\s` (Unicode White_Space): unlike JS `\s` it has U+0085 and not U+FEFF. */
export const PY_WHITESPACE_CLASS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's str.strip() / str.isspace(): the above plus U+001C..U+001F. */
const PY_STRIP_CLASS = PY_WHITESPACE_CLASS + '\\u001c-\\u001f';

const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'gu');
const STRIP = new RegExp(`^[${PY_STRIP_CLASS}]+|[${PY_STRIP_CLASS}]+$`, 'gu');

/** Python's str.strip() with no arguments. */
export function pyStrip(text: string): string {
  return text.replace(STRIP, '');
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(_m: string, s: string): string {
  if (s[0] === '#') {
    const digits = s[1] === 'x' || s[1] === 'X' ? s.slice(2) : s.slice(1);
    const body = digits.endsWith(';') ? digits.slice(0, -1) : digits;
    const num = s[1] === 'x' || s[1] === 'X' ? parseInt(body, 16) : parseInt(body, 10);
    const fixed = invalidCharrefs.get(num);
    if (fixed !== undefined) return fixed;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (invalidCodepoints.has(num)) return '';
    return String.fromCodePoint(num);
  }
  const whole = html5.get(s);
  if (whole !== undefined) return whole;
  // The longest prefix that is an entity (HTML5 allows some without ';'). Names are ASCII, so
  // UTF-16 prefixes find the same ones as Python's code-point prefixes.
  for (let x = s.length - 1; x > 1; x--) {
    const hit = html5.get(s.slice(0, x));
    if (hit !== undefined) return hit + s.slice(x);
  }
  return '&' + s;
}

/** Python's html.unescape (3.11), same tables and the same quirks. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, replaceCharref);
}

// ---------------------------------------------------------------------------------------------
// ftfy.fix_text, approximated

let ftfyEntities: Map<string, string> | null = null;
/** ftfy's HTML_ENTITIES: '&name;' for every ';'-terminated HTML5 name, plus upper-cased variants. */
function ftfyEntityTable(): Map<string, string> {
  if (ftfyEntities) return ftfyEntities;
  const table = new Map<string, string>();
  for (const [name, char] of html5) {
    if (!name.endsWith(';')) continue;
    table.set('&' + name, char);
    if (name === name.toLowerCase()) {
      const upper = '&' + name.toUpperCase();
      if (htmlUnescape(upper) === upper) table.set(upper, char.toUpperCase());
    }
  }
  return (ftfyEntities = table);
}

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  const table = ftfyEntityTable();
  return text.replace(FTFY_ENTITY, (m) => {
    const hit = table.get(m);
    if (hit !== undefined) return hit;
    if (m.startsWith('&#')) {
      const u = htmlUnescape(m);
      return u.includes(';') ? m : u;
    }
    return m;
  });
}

// sloppy-windows-1252 decoding of the C1 bytes 0x80..0x9F (undefined bytes stay themselves)
const CP1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj',
  '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl',
  '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

let widthMap: Map<string, string> | null = null;
function fixCharacterWidth(text: string): string {
  if (!/[\u3000\uff01-\uffef]/.test(text)) return text;
  if (!widthMap) {
    widthMap = new Map([['\u3000', ' ']]);
    for (let i = 0xff01; i < 0xfff0; i++) {
      const c = String.fromCharCode(i);
      const alt = c.normalize('NFKC');
      if (alt !== c) widthMap.set(c, alt);
    }
  }
  const map = widthMap;
  return text.replace(/[\u3000\uff01-\uffef]/g, (c) => map.get(c) ?? c);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const TERMINAL_ESCAPE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

function fixOnce(text: string, unescape: boolean): string {
  if (unescape) text = ftfyUnescapeHtml(text);
  // (fix_encoding, restore_byte_a0, replace_lossy_sequences, decode_inconsistent_utf8: not done)
  text = text.replace(C1, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);
  text = text.replace(LIGATURE, (c) => LIGATURES[c]);
  text = fixCharacterWidth(text);
  text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  text = text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n');
  text = text.replace(LONE_SURROGATE, '\ufffd');
  text = text.replace(TERMINAL_ESCAPE, '');
  text = text.replace(CONTROL_CHARS, '');
  return text.normalize('NFC');
}

/**
 * An approximation of ftfy.fix_text with ftfy 6's default settings, repeated until nothing changes
 * as ftfy does. Done: unescape_html ('auto': skipped when the text has '<'), fix_c1_controls,
 * fix_latin_ligatures, fix_character_width (full-width -> ASCII, U+3000 -> space), uncurl_quotes,
 * fix_line_breaks, fix_surrogates (lone surrogates -> U+FFFD), remove_terminal_escapes,
 * remove_control_chars, NFC normalisation. Not done: ftfy's mojibake repair (fix_encoding and
 * its helpers), which needs ftfy's heuristics and tables: "cafÃ©" stays "cafÃ©" where ftfy gives "café".
 */
export function fixText(text: string): string {
  const unescape = !text.includes('<');
  for (let i = 0; i < 16; i++) {
    const next = fixOnce(text, unescape);
    if (next === text) break;
    text = next;
  }
  return text;
}

/** Fast check: plain printable ASCII without '&' is left unchanged by fixText and htmlUnescape. */
const PLAIN_ASCII = /^[\x20-\x25\x27-\x7e]*$/;

export interface CleanOptions {
  /** Apply the ftfy.fix_text approximation (the reference applies ftfy). Default true. */
  fixText?: boolean;
}

/** whitespace_clean(basic_clean(text)).lower(), as the reference. */
export function cleanText(text: string, options: CleanOptions = {}): string {
  if (!PLAIN_ASCII.test(text)) {
    if (options.fixText !== false) text = fixText(text);
    text = htmlUnescape(htmlUnescape(text));
  }
  text = pyStrip(text);
  text = pyStrip(text.replace(WHITESPACE_RUN, ' '));
  return text.toLowerCase();
}
