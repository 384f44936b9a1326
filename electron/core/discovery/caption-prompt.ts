// A confirmation prompt from a captioner's words: the caption describes a failing image, often naming
// the class the image was mistaken for (or the class itself). Any class noun it names becomes the
// class under test; a caption that names none gets the class in front: "a photo of a {class}, {caption}".
import { plural } from '../../../native-models/shapeworld/caption.ts';

const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const VOWEL = /^[aeiou]/i;

export function captionPrompt(caption: string, noun: string, allNouns: readonly string[]): string {
  const text = caption.trim().replace(/\s+/g, ' ').replace(/[.]+$/, '');
  // Longest names first, so "pufferfish" is not read as "fish"; plurals before singulars.
  const names = [...new Set(allNouns)].sort((a, b) => b.length - a.length);
  for (const name of names) {
    for (const [form, replacement] of [[plural(name), plural(noun)], [name, noun]] as const) {
      const re = new RegExp(`\\b(an?\\s+)?${escape(form)}\\b`, 'i');
      const m = re.exec(text);
      if (!m) continue;
      const article = m[1] ? `${VOWEL.test(replacement) ? 'an' : 'a'} ` : '';
      return text.slice(0, m.index) + article + replacement + text.slice(m.index + m[0].length);
    }
  }
  return `a photo of ${VOWEL.test(noun) ? 'an' : 'a'} ${noun}, ${text}`;
}
