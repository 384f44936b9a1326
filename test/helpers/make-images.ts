import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

/** Writes a small solid-colour image (with a gradient so it is not trivially compressible). */
export async function writeImage(file: string, opts: { w?: number; h?: number; rgb?: [number, number, number]; format?: 'jpeg' | 'png' } = {}): Promise<void> {
  const w = opts.w ?? 48;
  const h = opts.h ?? 40;
  const [r, g, b] = opts.rgb ?? [200, 60, 30];
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      raw[o] = (r + x) & 255;
      raw[o + 1] = (g + y) & 255;
      raw[o + 2] = b;
    }
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  const bytes = opts.format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 90 }).toBuffer();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}
