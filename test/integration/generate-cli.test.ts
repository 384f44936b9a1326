import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab, factorlabAsync } from '../helpers/cli.ts';

const MODEL = new URL('../fixtures/diffusion/tiny-sd', import.meta.url).pathname;

interface Out {
  outDir: string;
  seed: number;
  scheduler: { name: string; fallback: { requested: string } | null };
  images: { png: string; provenance: string; prompt: string; seed: number }[];
}

describe('factorlab generate', () => {
  it('writes PNGs and provenance JSON, deterministic for a seed, on the tiny SD fixture', async () => {
    const tmp = tempDir();
    try {
      const args = (out: string, seed: string) => ['generate', '--model', MODEL, '--prompt', 'a photo of a star', '--prompt', 'a red heart', '--n', '2', '--steps', '4', '--seed', seed, '--negative', 'blurry', '--guidance', '6', '--out', out, '--provider', 'cpu', '--json'];
      const r = factorlab(args(join(tmp.path, 'a'), '42'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/step 5\/5 .*ETA/);
      const out = JSON.parse(r.stdout) as Out;
      expect(out.images.map((i) => [i.prompt, i.seed])).toEqual([['a photo of a star', 42], ['a photo of a star', 43], ['a red heart', 44], ['a red heart', 45]]);
      expect(out.scheduler.name).toBe('pndm');
      expect(out.scheduler.fallback).toBeNull();
      const files = readdirSync(join(tmp.path, 'a')).sort();
      expect(files).toEqual(['img-s42.json', 'img-s42.png', 'img-s43.json', 'img-s43.png', 'img-s44.json', 'img-s44.png', 'img-s45.json', 'img-s45.png']);
      const meta = await sharp(out.images[0].png).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 32, 32]);
      const prov = JSON.parse(readFileSync(out.images[2].provenance, 'utf8')) as Record<string, unknown> & { model: { hash: { sha256: string } } };
      expect(prov).toMatchObject({ file: 'img-s44.png', prompt: 'a red heart', negativePrompt: 'blurry', seed: 44, steps: 4, guidance: 6, scheduler: 'pndm', width: 32, height: 32 });
      // model_index.json, then every file of the image-shaping parts (external UNet weights included), name and size first
      const hashed = ['model_index.json', 'text_encoder/config.json', 'text_encoder/model.onnx', 'unet/config.json', 'unet/model.onnx', 'unet/weights.pb',
        'vae_decoder/config.json', 'vae_decoder/model.onnx', 'tokenizer/merges.txt', 'tokenizer/special_tokens_map.json', 'tokenizer/tokenizer_config.json',
        'tokenizer/vocab.json', 'scheduler/scheduler_config.json'];
      const h = createHash('sha256');
      for (const f of hashed) {
        const b = readFileSync(join(MODEL, f));
        h.update(`${f}\0${b.length}\0`);
        h.update(b);
      }
      expect(prov.model.hash).toMatchObject({ of: hashed, sampled: [] });
      expect(prov.model.hash.sha256).toBe(h.digest('hex'));

      const again = factorlab(args(join(tmp.path, 'b'), '42'));
      expect(again.code, again.stderr).toBe(0);
      const other = factorlab(args(join(tmp.path, 'c'), '7'));
      expect(other.code, other.stderr).toBe(0);
      const png = (dir: string, f: string) => readFileSync(join(tmp.path, dir, f));
      expect(png('b', 'img-s42.png').equals(png('a', 'img-s42.png'))).toBe(true);
      expect(png('b', 'img-s45.png').equals(png('a', 'img-s45.png'))).toBe(true);
      expect(png('c', 'img-s7.png').equals(png('a', 'img-s42.png'))).toBe(false);

      // a second run into the same folder does not overwrite
      const third = factorlab(['generate', '--model', MODEL, '--prompt', 'a star', '--steps', '2', '--seed', '42', '--scheduler', 'euler_a', '--max-batch', '1', '--out', join(tmp.path, 'a')]);
      expect(third.code, third.stderr).toBe(0);
      expect(readdirSync(join(tmp.path, 'a'))).toContain('img-s42-1.png');
      expect(readdirSync(join(tmp.path, 'a')).filter((f) => f.includes('.tmp'))).toEqual([]);
    } finally {
      tmp.remove();
    }
  });

  it('exits 2 with a clear message on bad input', () => {
    const tmp = tempDir();
    try {
      const out = join(tmp.path, 'out');
      const base = ['generate', '--model', MODEL, '--prompt', 'a star', '--steps', '2', '--provider', 'cpu'];
      const cases: [string[], RegExp][] = [
        [['generate', '--model', MODEL, '--prompt', 'a star'], /--model, --prompt and --out are required/],
        [[...base, '--out', out, '--scheduler', 'heun'], /unknown scheduler "heun"/],
        [[...base, '--out', out, '--seed=-1'], /--seed must be an integer/], [[...base, '--out', out, '--seed', '1.5'], /--seed must be an integer/],
        [[...base, '--out', out, '--guidance', 'lots'], /--guidance must be a non-negative number/],
        [[...base, '--out', out, '--width', '30', '--height', '32'], /width must be a positive multiple of 4/],
        [[...base, '--out', out, '--bogus'], /Unknown option/],
      ];
      for (const [args, msg] of cases) {
        const r = factorlab(args);
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(msg);
      }
      const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
      const tooLong = factorlab(['generate', '--model', MODEL, '--prompt', long, '--steps', '1', '--out', out, '--provider', 'cpu']);
      expect(tooLong.code).toBe(2);
      expect(tooLong.stderr).toMatch(/more than the model's 77/);
      expect(factorlab(['generate', '--model', MODEL, '--prompt', long, '--steps', '1', '--out', out, '--provider', 'cpu', '--truncate']).code).toBe(0);

      const broken = join(tmp.path, 'broken');
      cpSync(MODEL, broken, { recursive: true });
      rmSync(join(broken, 'vae_decoder', 'model.onnx'));
      const missing = factorlab(['generate', '--model', broken, '--prompt', 'a star', '--out', out, '--provider', 'cpu']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`vae decoder (${join(broken, 'vae_decoder', 'model.onnx')}): missing`);
    } finally {
      tmp.remove();
    }
  });

  it('Ctrl-C cancels between steps: exit 130, no image written', async () => {
    const tmp = tempDir();
    try {
      const out = join(tmp.path, 'out');
      const child = factorlabAsync(['generate', '--model', MODEL, '--prompt', 'a star', '--n', '4', '--steps', '900', '--scheduler', 'ddim', '--out', out, '--provider', 'cpu']);
      let stderr = '';
      const code = await new Promise<number | null>((done) => {
        child.stderr.on('data', (b: Buffer) => {
          stderr += b.toString();
          if (/step \d+\/900/.test(stderr) && !child.killed) child.kill('SIGINT');
        });
        child.on('close', (c) => done(c));
      });
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(/cancelled/);
      let files: string[] = [];
      try {
        files = readdirSync(out);
      } catch {
        files = [];
      }
      expect(files).toEqual([]);
    } finally {
      tmp.remove();
    }
  });
});
