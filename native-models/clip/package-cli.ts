// node native-models/clip/package-cli.ts --export DIR --out DIR --name NAME [--extra FILE ...]
// Packages a ShapeWorld-CLIP-style export (train_clip.py output: clip_meta.json gives embed_dim,
// logit_scale, normalized and the preprocessing mean/std/size).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClipPackage } from './package.ts';

const { values } = parseArgs({
  options: { export: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, extra: { type: 'string', multiple: true } },
});
if (!values.export || !values.out || !values.name) {
  console.error('usage: package-cli.ts --export DIR --out DIR --name NAME [--extra FILE ...]');
  process.exit(2);
}
const src = values.export;
const meta = JSON.parse(readFileSync(join(src, 'clip_meta.json'), 'utf8')) as {
  embed_dim: number;
  logit_scale: number;
  normalized: boolean;
  preprocessing: { size: [number, number]; mean: [number, number, number]; std: [number, number, number] };
};
const { dir, manifest } = await createClipPackage({
  outDir: values.out,
  name: values.name,
  imageOnnx: join(src, 'image_encoder/model.onnx'),
  textOnnx: join(src, 'text_encoder/model.onnx'),
  vocab: join(src, 'tokenizer/vocab.json'),
  merges: join(src, 'tokenizer/merges.txt'),
  embedDim: meta.embed_dim,
  logitScale: meta.logit_scale,
  normalized: meta.normalized,
  preprocess: {
    resize_shorter: null,
    crop: meta.preprocessing.size,
    interpolation: 'bilinear',
    mean: meta.preprocessing.mean,
    std: meta.preprocessing.std,
    channel_order: 'RGB',
    layout: 'NCHW',
  },
  extraFiles: values.extra ?? [],
});
console.log(JSON.stringify({ dir, name: manifest.name, embed_dim: manifest.embed_dim, logit_scale: manifest.logit_scale }));
