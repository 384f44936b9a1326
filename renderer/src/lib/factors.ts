// The 16 ImageNet-X factors as the labelling UI shows them, with their hotkeys. Digits 1-9, 0 for
// the first ten and Q W E R T Y for the last six: plain keys without a modifier, which no browser
// binds (Ctrl/Cmd combinations are left to the browser, except Ctrl+Z for undo). Shift + the key
// marks the top factor. Keys are matched by `KeyboardEvent.code`, so they sit in the same place on
// any keyboard layout.

import { IMAGENET_X_FACTORS } from '../../../electron/contract-names.ts';

/** The 16 factors in the order of the ImageNet-X files (bit i of a stored mask). */
export const FACTORS: readonly string[] = IMAGENET_X_FACTORS;

export const FACTOR_KEYS: readonly { code: string; key: string }[] = [
  ...['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].map((d) => ({ code: `Digit${d}`, key: d })),
  ...['Q', 'W', 'E', 'R', 'T', 'Y'].map((l) => ({ code: `Key${l}`, key: l })),
];

export function factorOfCode(code: string): number {
  return FACTOR_KEYS.findIndex((k) => k.code === code);
}

export function factorLabel(f: string): string {
  return f.replace(/_/g, ' ');
}

/** The annotator name this browser remembers. */
const KEY = 'factorlab.annotator';
export function rememberedAnnotator(): string {
  try {
    return localStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}
export function rememberAnnotator(name: string): void {
  try {
    localStorage.setItem(KEY, name);
  } catch {
    /* storage off: the name lasts for this page */
  }
}

/** True when a key event is typed into a field (hotkeys stay out of the way). */
export function typingIn(e: { target: EventTarget | null }): boolean {
  const t = e.target as { tagName?: string; isContentEditable?: boolean } | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable === true);
}
