// The colour scale of the heatmaps (failure IoU, factor co-occurrence): white at 0 to dark blue at 1,
// and the text colour that stays readable on a cell. Pure: no DOM.
const LOW = [255, 255, 255];
const HIGH = [23, 37, 84];

/** The scale's colour for a value in [0, 1] (clamped). */
export function heatColor(v: number): string {
  const t = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
  const c = LOW.map((lo, i) => Math.round(lo + (HIGH[i]! - lo) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Dark cells get light text. */
export const heatInk = (v: number): string => (v > 0.5 ? '#ffffff' : '#1d1d21');
