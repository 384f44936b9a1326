import { extname } from 'node:path';

const DECODABLE = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);
const OTHER_IMAGE = new Set(['.bmp', '.ppm', '.pgm', '.pbm', '.ico', '.heic', '.heif', '.jxl', '.raw', '.cr2', '.nef', '.dng']);

/** Null when the file name looks like an image the decoder reads, else why it is skipped. */
export function whyNotAnImageName(name: string): string | null {
  const ext = extname(name).toLowerCase();
  if (DECODABLE.has(ext)) return null;
  if (OTHER_IMAGE.has(ext)) return `image format ${ext} is not supported by the decoder (convert to JPEG or PNG)`;
  return ext ? `not an image (extension ${ext})` : 'not an image (no extension)';
}
