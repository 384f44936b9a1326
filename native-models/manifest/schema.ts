// Model package manifests: a folder with manifest.json plus the files it names.
// `kind` discriminates: 'classifier' and 'clip' so far; diffusion / captioner packages will be added
// as further members of ModelManifestSchema's union.
import { z } from 'zod';
import { PreprocessSpecSchema } from '../preprocess/spec.ts';

export const MANIFEST_FILE = 'manifest.json';

/** A dimension: fixed size, or null / a symbolic name for a dynamic one. */
export const DimSchema = z.union([z.number().int().positive(), z.string().min(1), z.null()]);

/** A file inside the package folder: relative, no '..', no absolute path. */
export const RelativeFileSchema = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.startsWith('\\') && !/^[a-zA-Z]:/.test(p) && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a file name relative to the package folder (no absolute path, no "..")',
  });

export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

export const LabelSchema = z.object({ name: z.string(), wnid: z.string().optional() });

export const ClassifierManifestSchema = z
  .object({
    format_version: z.literal(1),
    kind: z.literal('classifier'),
    name: z.string().min(1),
    onnx: RelativeFileSchema,
    onnx_sha256: Sha256Schema,
    input: z.object({
      name: z.string().min(1),
      /** NCHW; dim 0 fixed to k means the model only runs in batches of k. */
      shape: z.array(DimSchema).length(4),
      /** float16: a half-precision export (FactorLab converts to and from float32 at the boundary). */
      dtype: z.enum(['float32', 'float16']),
    }),
    outputs: z.object({
      /** Graph output holding the classifier's scores (pre-softmax when logits_are = 'logits'). */
      logits: z.string().min(1),
      /** Graph output holding the head's input (the penultimate features), [N, feature_dim]. */
      features: z.string().min(1),
      logits_are: z.enum(['logits', 'probabilities']),
    }),
    head: z.object({
      kind: z.enum(['gemm', 'matmul_add']),
      /** initialiser holding the weight: [num_classes, feature_dim] (out_in) or [feature_dim, num_classes] (in_out) */
      weight: z.string().min(1),
      /** initialiser holding the bias ([num_classes] or [1, num_classes]), or null for none */
      bias: z.string().min(1).nullable(),
      weight_layout: z.enum(['out_in', 'in_out']),
      num_classes: z.number().int().positive(),
      feature_dim: z.number().int().positive(),
    }),
    preprocess: PreprocessSpecSchema,
    preset: z.enum(['imagenet', 'clip', 'none']),
    labels: z.array(LabelSchema),
  })
  .superRefine((m, ctx) => {
    if (m.labels.length !== m.head.num_classes) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `has ${m.labels.length} entries, expected head.num_classes = ${m.head.num_classes}` });
    }
    if (m.input.shape[1] !== null && typeof m.input.shape[1] === 'number' && m.input.shape[1] !== 3) {
      ctx.addIssue({ code: 'custom', path: ['input', 'shape', 1], message: `is ${m.input.shape[1]}; the preprocessing produces 3 channels` });
    }
    const [h, w] = [m.input.shape[2], m.input.shape[3]];
    const [ch, cw] = m.preprocess.crop;
    if ((typeof h === 'number' && h !== ch) || (typeof w === 'number' && w !== cw)) {
      ctx.addIssue({ code: 'custom', path: ['preprocess', 'crop'], message: `is [${ch}, ${cw}] but the input is ${String(h)}x${String(w)}` });
    }
  });

export type ClassifierManifest = z.infer<typeof ClassifierManifestSchema>;
export type Label = z.infer<typeof LabelSchema>;

/**
 * A CLIP package: separate image and text encoders (as open_clip and Hugging Face Optimum export
 * them), the BPE tokenizer files, the logit scale and the image preprocessing. Graph input and output
 * names are data, not code: a real ViT-B/32 export and the ShapeWorld CLIP both fit.
 */
export const ClipManifestSchema = z
  .object({
    format_version: z.literal(1),
    kind: z.literal('clip'),
    name: z.string().min(1),
    image_encoder: z.object({
      onnx: RelativeFileSchema,
      onnx_sha256: Sha256Schema.optional(),
      /** Graph input: float32 [N, 3, H, W] preprocessed pixels. */
      input: z.string().min(1),
      /** Graph output: [N, embed_dim] image embeddings (projected). */
      output: z.string().min(1),
    }),
    text_encoder: z.object({
      onnx: RelativeFileSchema,
      onnx_sha256: Sha256Schema.optional(),
      /** Graph input: token ids [N, context_length] (int64 or int32). */
      input: z.string().min(1),
      /** Graph input for the attention mask (1 = token, 0 = padding) where the export has one. */
      attention_mask: z.string().min(1).nullable().default(null),
      /** Graph output: [N, embed_dim] text embeddings (projected). */
      output_embeds: z.string().min(1),
      /** Graph output: [N, context_length, width] per-token states, or null when not exported. */
      output_hidden: z.string().min(1).nullable(),
    }),
    tokenizer: z.object({
      /** Hugging Face vocab.json + merges.txt (CLIP BPE). */
      vocab: RelativeFileSchema,
      merges: RelativeFileSchema,
      context_length: z.number().int().positive(),
      pad_id: z.number().int().nonnegative(),
    }),
    embed_dim: z.number().int().positive(),
    /** exp(learned temperature), as CLIP uses it: logits = logit_scale * cos(image, text). */
    logit_scale: z.number().positive().finite(),
    /** Whether the encoders' embedding outputs are already L2-normalised. */
    normalized: z.boolean(),
    preprocess: PreprocessSpecSchema,
  });

export type ClipManifest = z.infer<typeof ClipManifestSchema>;

export const ModelManifestSchema = z.discriminatedUnion('kind', [ClassifierManifestSchema, ClipManifestSchema]);
export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type ModelKind = ModelManifest['kind'];
