// Writes a clip model package (manifest.json + encoders + tokenizer files) from an export folder
// laid out as the ShapeWorld training script writes it: image_encoder/model.onnx,
// text_encoder/model.onnx, tokenizer/{vocab.json,merges.txt}. Other layouts: give the paths.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sha256File, loadModelPackage } from '../manifest/load.ts';
import { ClipManifestSchema, MANIFEST_FILE, type ClipManifest } from '../manifest/schema.ts';
import type { PreprocessSpec } from '../preprocess/spec.ts';

export interface CreateClipPackageOptions {
  outDir: string;
  name: string;
  imageOnnx: string;
  textOnnx: string;
  vocab: string;
  merges: string;
  embedDim: number;
  logitScale: number;
  normalized: boolean;
  preprocess: PreprocessSpec;
  imageIO?: { input: string; output: string };
  textIO?: { input: string; attention_mask?: string | null; output_embeds: string; output_hidden: string | null };
  contextLength?: number;
  padId?: number;
  /** Extra files copied into the package as they are (e.g. reference.json, train_report.json). */
  extraFiles?: string[];
}

export async function createClipPackage(o: CreateClipPackageOptions): Promise<{ dir: string; manifest: ClipManifest }> {
  await mkdir(join(o.outDir, 'image_encoder'), { recursive: true });
  await mkdir(join(o.outDir, 'text_encoder'), { recursive: true });
  await mkdir(join(o.outDir, 'tokenizer'), { recursive: true });
  const files = {
    image: 'image_encoder/model.onnx',
    text: 'text_encoder/model.onnx',
    vocab: 'tokenizer/vocab.json',
    merges: 'tokenizer/merges.txt',
  };
  await copyFile(o.imageOnnx, join(o.outDir, files.image));
  await copyFile(o.textOnnx, join(o.outDir, files.text));
  await copyFile(o.vocab, join(o.outDir, files.vocab));
  await copyFile(o.merges, join(o.outDir, files.merges));
  for (const f of o.extraFiles ?? []) await copyFile(f, join(o.outDir, basename(f)));
  const manifest = ClipManifestSchema.parse({
    format_version: 1,
    kind: 'clip',
    name: o.name,
    image_encoder: {
      onnx: files.image,
      onnx_sha256: await sha256File(join(o.outDir, files.image)),
      ...(o.imageIO ?? { input: 'pixel_values', output: 'image_embeds' }),
    },
    text_encoder: {
      onnx: files.text,
      onnx_sha256: await sha256File(join(o.outDir, files.text)),
      attention_mask: null,
      ...(o.textIO ?? { input: 'input_ids', output_embeds: 'text_embeds', output_hidden: 'last_hidden_state' }),
    },
    tokenizer: { vocab: files.vocab, merges: files.merges, context_length: o.contextLength ?? 77, pad_id: o.padId ?? 0 },
    embed_dim: o.embedDim,
    logit_scale: o.logitScale,
    normalized: o.normalized,
    preprocess: o.preprocess,
  });
  await writeFile(join(o.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  await loadModelPackage(o.outDir); // refuse to leave a package that does not load
  return { dir: o.outDir, manifest };
}


