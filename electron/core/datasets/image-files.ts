import { extname } from 'node:path';
import { walkFiles, type WalkedFile } from './walk-files.ts';

const DECODABLE = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);
const OTHER_IMAGE = new Set(['.bmp', '.ppm', '.pgm', '.pbm', '.ico', '.heic', '.heif', '.jxl', '.raw', '.cr2', '.nef', '.dng']);

/** Null when the file name looks like an image the decoder reads, else why it is skipped. */
export function whyNotAnImageName(name: string): string | null {
  const ext = extname(name).toLowerCase();
  if (DECODABLE.has(ext)) return null;
  if (OTHER_IMAGE.has(ext)) return `image format ${ext} is not supported by the decoder (convert to JPEG or PNG)`;
  return ext ? `not an image (extension ${ext})` : 'not an image (no extension)';
}

/** Every decodable image under a folder, and every other file or folder with why it is skipped. */
export async function listImageFiles(root: string): Promise<{ images: WalkedFile[]; skipped: { file: string; reason: string }[] }> {
  const { files, problems } = await walkFiles(root);
  const skipped = problems.map((p) => ({ file: p.rel, reason: p.reason }));
  const images: WalkedFile[] = [];
  for (const f of files) {
    const why = whyNotAnImageName(f.rel);
    if (why) skipped.push({ file: f.rel, reason: why });
    else images.push(f);
  }
  return { images, skipped };
}
