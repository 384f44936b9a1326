import type { Lab } from '../lab.ts';
import { imageRecord } from '../datasets/dataset-queries.ts';
import { fullImage, thumbnail } from '../datasets/thumbnails.ts';
import { generatedPng } from '../debugging/generation-sets.ts';
import { discoveryPng } from '../discovery/discovery-sessions.ts';

/** Bytes for `thumb/<id>`, `full/<id>`, `gen/<generated image id>` or `disc/<discovery image id>`: the one image route behind lab:// (Electron) and /lab/ (serve).
 * Reads only files registered in a dataset, inside that dataset's root. */
export async function imageForRoute(lab: Lab, route: string): Promise<{ status: number; type: string; body: Buffer | string }> {
  const g = /^gen\/(\d+)$/.exec(route);
  if (g) {
    try {
      return { status: 200, type: 'image/png', body: generatedPng(lab.db, lab.blobs, Number(g[1])) };
    } catch {
      return { status: 404, type: 'text/plain', body: `no generated image ${g[1]}` };
    }
  }
  const d = /^disc\/(\d+)$/.exec(route);
  if (d) {
    try {
      return { status: 200, type: 'image/png', body: discoveryPng(lab.db, lab.blobs, Number(d[1])) };
    } catch {
      return { status: 404, type: 'text/plain', body: `no discovery image ${d[1]}` };
    }
  }
  const m = /^(thumb|full)\/(\d+)$/.exec(route);
  if (!m) return { status: 404, type: 'text/plain', body: 'unknown image route' };
  let img;
  try {
    img = imageRecord(lab.db, Number(m[2]));
  } catch {
    return { status: 404, type: 'text/plain', body: `no image ${m[2]}` };
  }
  try {
    if (m[1] === 'thumb') return { status: 200, type: 'image/webp', body: await thumbnail(lab.blobs.root, img.root, img.rel_path, img.sha256) };
    const full = await fullImage(img.root, img.rel_path);
    return { status: 200, type: full.type, body: full.bytes };
  } catch (e) {
    return { status: 422, type: 'text/plain', body: `cannot show ${img.rel_path}: ${(e as Error).message}` };
  }
}
