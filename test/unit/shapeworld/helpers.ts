import sharp from 'sharp';
import { renderMask, renderRaw } from '../../../native-models/shapeworld/render.ts';
import type { Scene } from '../../../native-models/shapeworld/scene.ts';

/** Mean luminance (Rec. 601) of a rendered scene, 0..255. */
export async function meanLuminance(scene: Scene): Promise<number> {
  const px = await renderRaw(scene);
  let sum = 0;
  for (let i = 0; i < px.length; i += 3) sum += 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]!;
  return sum / (px.length / 3);
}

/** The visible object mask as 0/1 per pixel, with its side. */
export async function mask(scene: Scene): Promise<{ data: Uint8Array; size: number; count: number }> {
  const png = await renderMask(scene);
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(info.width * info.height);
  let count = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[i * info.channels]! > 127 ? 1 : 0;
    count += out[i]!;
  }
  return { data: out, size: info.width, count };
}

/** Number of object pixels on the outermost row/column of the frame. */
export function borderCount(m: { data: Uint8Array; size: number }): number {
  let n = 0;
  const s = m.size;
  for (let i = 0; i < s; i++) n += m.data[i]! + m.data[(s - 1) * s + i]! + m.data[i * s]! + m.data[i * s + s - 1]!;
  return n;
}
