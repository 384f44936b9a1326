import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

export const THUMB_SIZE = 160;

/** Only files inside the dataset's root are ever read: the stored relative path must not escape it. */
export function safeImagePath(root: string, rel: string): string {
  const abs = resolve(root, rel);
  const base = resolve(root);
  if (abs !== base && !abs.startsWith(base.endsWith(sep) ? base : base + sep)) throw new Error(`refusing to read outside the dataset root: ${rel}`);
  return abs;
}

/** A WebP thumbnail, cached under blobs/thumbs by the image's content hash. */
export async function thumbnail(blobsRoot: string, root: string, rel: string, sha256: string): Promise<Buffer> {
  const dir = join(blobsRoot, 'thumbs', sha256.slice(0, 2));
  const file = join(dir, `${sha256}-${THUMB_SIZE}.webp`);
  if (existsSync(file)) return readFile(file);
  const out = await sharp(safeImagePath(root, rel), { limitInputPixels: 1e9, failOn: 'error' })
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'cover', fastShrinkOnLoad: true })
    .webp({ quality: 80 })
    .toBuffer();
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
  return out;
}

/** The original bytes for the detail view, re-encoded to PNG when the browser cannot show the format. */
export async function fullImage(root: string, rel: string): Promise<{ bytes: Buffer; type: string }> {
  const abs = safeImagePath(root, rel);
  const lower = rel.toLowerCase();
  const bytes = await readFile(abs);
  if (/\.(jpe?g|png|webp|gif|avif)$/.test(lower)) {
    const type = lower.endsWith('.png') ? 'image/png' : lower.endsWith('.webp') ? 'image/webp' : lower.endsWith('.gif') ? 'image/gif' : lower.endsWith('.avif') ? 'image/avif' : 'image/jpeg';
    return { bytes, type };
  }
  return { bytes: await sharp(bytes, { limitInputPixels: 1e9 }).png().toBuffer(), type: 'image/png' };
}
