// Text helpers shared by the chart exports (CSV tables, standalone SVG). Pure: no DOM.

/** One CSV cell: null is empty; quoted when it holds a quote, a comma or a line break. */
export function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: (string | number | null)[]): string => cells.map(csvCell).join(',');

/** Text escaped for SVG/XML content and attribute values. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A name safe as a file name anywhere. */
export const safeFileName = (s: string): string => s.replace(/[^\w.-]+/g, '_');
