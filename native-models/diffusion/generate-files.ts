// Text-to-image into a folder: one PNG and one provenance JSON per image. Each file is written to
// a temporary name in the same folder and renamed into place, so an interrupted run never leaves a
// half-written PNG under its final name.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DiffusionPipeline, type GenerateOptions, type GenerateResult } from './pipeline.ts';
import type { ProviderRequest } from '../runtime/session.ts';

export interface ModelHash {
  sha256: string;
  /** The files hashed, in order (relative to the model folder). */
  of: string[];
  /** Files over SAMPLE_ABOVE bytes, hashed by their size and three 16 MiB windows (start, middle,
   * end) so that a multi-GB UNet does not cost a full read per call; fine-tunes still differ there. */
  sampled: string[];
}

const SAMPLE_ABOVE = 256 * 1024 * 1024;
const WINDOW = 16 * 1024 * 1024;

async function hashInto(h: ReturnType<typeof createHash>, file: string, start = 0, end?: number): Promise<void> {
  await new Promise<void>((done, fail) => {
    const s = createReadStream(file, end === undefined ? { start } : { start, end: end - 1 });
    s.on('data', (b) => h.update(b));
    s.on('end', done);
    s.on('error', fail);
  });
}

/** Files below `dir/rel`, relative to dir, sorted by name at each level. */
export function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** sha256 over files of a model folder (relative paths, in the given order), names and sizes
 * included; files over SAMPLE_ABOVE bytes by three windows (see ModelHash.sampled). */
export async function hashModelFiles(dir: string, of: string[]): Promise<ModelHash> {
  const h = createHash('sha256');
  const sampled: string[] = [];
  for (const f of of) {
    const file = join(dir, f);
    const size = statSync(file).size;
    h.update(`${f}\0${size}\0`);
    if (size <= SAMPLE_ABOVE) {
      await hashInto(h, file);
    } else {
      sampled.push(f);
      const mid = Math.floor(size / 2 - WINDOW / 2);
      for (const start of [0, mid, size - WINDOW]) await hashInto(h, file, start, start + WINDOW);
    }
  }
  return { sha256: h.digest('hex'), of, sampled };
}

/** sha256 over model_index.json and every file of the parts that shape an image (text encoder,
 * UNet with its external weights, VAE decoder, tokenizer, scheduler), names included. */
export async function hashDiffusionModel(dir: string): Promise<ModelHash> {
  const parts = ['text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'scheduler'];
  return hashModelFiles(dir, ['model_index.json', ...parts.flatMap((p) => (existsSync(join(dir, p)) ? listFiles(dir, p) : []))]);
}

export interface Provenance {
  file: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: string;
  schedulerClass: string;
  schedulerFallback: string | null;
  width: number;
  height: number;
  model: { path: string; hash: ModelHash };
  provider: string;
  createdAt: string;
}

export interface GenerateToFolderOptions extends Omit<GenerateOptions, 'onProgress'> {
  model: string;
  out: string;
  provider?: ProviderRequest;
  /** Most latents per UNet / VAE call (see LoadOptions.maxBatch). */
  maxBatch?: number;
  onProgress?: (step: number, total: number, elapsedSeconds: number) => void;
}

export interface GenerateToFolderResult {
  outDir: string;
  provider: string;
  model: { path: string; hash: ModelHash };
  scheduler: GenerateResult['scheduler'];
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  seconds: number;
  images: Array<{ png: string; provenance: string; prompt: string; seed: number }>;
}

function writeAtomic(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A file stem not used in the folder yet: img-<seed>-<k> (k counts up on clashes). */
function freeStem(outDir: string, seed: number, taken: Set<string>): string {
  for (let k = 0; ; k++) {
    const stem = `img-s${seed}${k ? `-${k}` : ''}`;
    if (!taken.has(stem) && !existsSync(join(outDir, `${stem}.png`)) && !existsSync(join(outDir, `${stem}.json`))) {
      taken.add(stem);
      return stem;
    }
  }
}

export async function generateToFolder(options: GenerateToFolderOptions): Promise<GenerateToFolderResult> {
  const model = resolve(options.model);
  const outDir = resolve(options.out);
  const pipe = await DiffusionPipeline.load(model, { provider: options.provider, maxBatch: options.maxBatch });
  try {
    const hash = await hashDiffusionModel(model);
    mkdirSync(outDir, { recursive: true });
    const started = Date.now();
    const { model: _m, out: _o, provider: _p, maxBatch: _b, ...gen } = options;
    const r = await pipe.generate({ ...gen, onProgress: (s, t) => options.onProgress?.(s, t, (Date.now() - started) / 1000) });
    const taken = new Set<string>();
    const images: GenerateToFolderResult['images'] = [];
    for (const img of r.images) {
      const stem = freeStem(outDir, img.seed, taken);
      const png = join(outDir, `${stem}.png`);
      const json = join(outDir, `${stem}.json`);
      const prov: Provenance = {
        file: `${stem}.png`,
        prompt: img.prompt,
        negativePrompt: img.negativePrompt,
        seed: img.seed,
        steps: r.steps,
        guidance: r.guidance,
        scheduler: r.scheduler.name,
        schedulerClass: r.scheduler.className,
        schedulerFallback: r.scheduler.fallback?.reason ?? null,
        width: img.width,
        height: img.height,
        model: { path: model, hash },
        provider: pipe.provider,
        createdAt: new Date().toISOString(),
      };
      writeAtomic(png, img.png);
      writeAtomic(json, `${JSON.stringify(prov, null, 2)}\n`);
      images.push({ png, provenance: json, prompt: img.prompt, seed: img.seed });
    }
    return {
      outDir,
      provider: pipe.provider,
      model: { path: model, hash },
      scheduler: r.scheduler,
      steps: r.steps,
      guidance: r.guidance,
      seed: r.seed,
      width: r.width,
      height: r.height,
      seconds: r.seconds,
      images,
    };
  } finally {
    await pipe.release();
  }
}
