// PNG exports of the charts: a uPlot canvas copied under a title and its legend (uPlot draws the
// legend in HTML, not on the canvas), or a standalone SVG export rasterised at twice its size.
import { download } from './download.ts';

export interface LegendEntry {
  label: string;
  color: string;
}

/** The canvas on a white background, the title and the legend above it. */
export function canvasPng(src: HTMLCanvasElement | null | undefined, fileName: string, title: string, legend: LegendEntry[] = []): void {
  if (!src) return;
  const d = devicePixelRatio;
  const out = document.createElement('canvas');
  const pad = (legend.length ? 52 : 32) * d;
  out.width = src.width;
  out.height = src.height + pad;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222';
  ctx.font = `${13 * d}px sans-serif`;
  ctx.fillText(title, 8 * d, 20 * d);
  let x = 8 * d;
  for (const e of legend) {
    ctx.fillStyle = e.color;
    ctx.fillRect(x, 30 * d, 10 * d, 10 * d);
    ctx.fillStyle = '#222';
    ctx.fillText(e.label, x + 14 * d, 40 * d);
    x += 14 * d + ctx.measureText(e.label).width + 16 * d;
  }
  ctx.drawImage(src, 0, pad);
  out.toBlob((b) => b && download(fileName, b), 'image/png');
}

/** An SVG document rasterised at twice its size on a white background. */
export function svgPng(svg: string, fileName: string, onError: () => void): void {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  const img = new Image();
  img.onload = () => {
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth * scale;
    canvas.height = img.naturalHeight * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((b) => b && download(fileName, b), 'image/png');
  };
  img.onerror = () => {
    URL.revokeObjectURL(url);
    onError();
  };
  img.src = url;
}
