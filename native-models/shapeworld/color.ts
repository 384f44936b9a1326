import type { Hsl } from './world.ts';

/** HSL (degrees, percent, percent) to #rrggbb. */
export function hslToHex(c: Hsl): string {
  const h = (((c.h % 360) + 360) % 360) / 360;
  const s = Math.min(100, Math.max(0, c.s)) / 100;
  const l = Math.min(100, Math.max(0, c.l)) / 100;
  const hue = (p: number, q: number, t: number): number => {
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  let r: number;
  let g: number;
  let b: number;
  if (s === 0) {
    r = g = b = l;
  } else {
    const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
    const p = 2 * l - q;
    r = hue(p, q, h + 1 / 3);
    g = hue(p, q, h);
    b = hue(p, q, h - 1 / 3);
  }
  const hex = (x: number): string => Math.round(x * 255).toString(16).padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

/** Same hue and saturation, lightness shifted by dl percent points (clamped). */
export function shade(c: Hsl, dl: number): Hsl {
  return { h: c.h, s: c.s, l: Math.min(97, Math.max(4, c.l + dl)) };
}

/** Smallest angular distance between two hues, in degrees (0..180). */
export function hueDistance(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return Math.min(d, 360 - d);
}

/** Named colour words for captions. */
export function colorWord(c: Hsl): string {
  if (c.l < 18) return 'black';
  if (c.l > 88) return 'white';
  if (c.s < 18) return c.l < 45 ? 'dark grey' : 'grey';
  const h = ((c.h % 360) + 360) % 360;
  if (h < 15 || h >= 340) return c.l > 70 ? 'pink' : 'red';
  if (h < 38) return c.l < 35 ? 'brown' : c.l > 66 ? 'beige' : 'orange';
  if (h < 65) return c.l > 66 && c.s < 75 ? 'beige' : 'yellow';
  if (h < 160) return 'green';
  if (h < 195) return 'teal';
  if (h < 250) return 'blue';
  if (h < 290) return 'purple';
  return 'pink';
}
