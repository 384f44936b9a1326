// `npm run bench`: throughput of `factorlab run` (JPEG files -> stored predictions + features)
// against its two limits measured in the same run: decode-only (sharp, same preprocessing and
// batching) and bare inference (onnxruntime-node on pre-decoded tensors).
// Target: end-to-end >= 0.9 x min(decode-only, bare inference).
//
//   npm run bench [-- --model PACKAGE_OR_ONNX --preset imagenet --images N] [--case all|run|imagenetx]
// --case imagenetx runs only the ImageNet-X analysis case (imagenetx-bench.ts: 50 000 annotations x 4
// prediction files end to end, against a read-and-split baseline; target < 2 s); all (default) runs all.
// --case head runs only the head retraining case (head-bench.ts: one full-batch objective + gradient
// pass with onnxruntime and with the typed-array kernels against the bare onnxruntime products;
// --head-size n,D,C, default 3000,2048,1000).
// --case diffusion runs only the text-to-image case (diffusion-bench.ts: the pipeline against its model
// calls alone on the ShapeWorld package; target <= 1.10x).
// --case discovery runs only the bug-discovery case (discovery-bench.ts: generate -> classify -> describe
// against generation alone; target <= 1.15x).
// Without --model it uses a torchvision ResNet-50 (random weights) exported on first use with
// Debian's python3-torch when available, and the ShapeWorld classifier package otherwise.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { DEFAULT_BATCH } from '../../electron/core/runs/run-classifier.ts';
import { openClassifier } from '../../native-models/classifier/index.ts';
import { decodeBatchCompacted, decodeToTensor } from '../../native-models/preprocess/index.ts';
import { benchImageNetX } from './imagenetx-bench.ts';
import { benchHead } from './head-bench.ts';
import { benchDiffusion } from './diffusion-bench.ts';
import { benchDiscovery } from './discovery-bench.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const work = join(root, '.labs', 'bench');
const { values } = parseArgs({ options: { model: { type: 'string' }, preset: { type: 'string', default: 'imagenet' }, images: { type: 'string', default: '256' }, case: { type: 'string', default: 'all' }, 'head-size': { type: 'string', default: '3000,2048,1000' } } });
const N = Number(values.images);
mkdirSync(work, { recursive: true });
if (values.case === 'imagenetx' || values.case === 'all') benchImageNetX(root);
if (values.case === 'head' || values.case === 'all') {
  const [hn, hd, hc] = values['head-size'].split(',').map(Number);
  await benchHead(root, { n: hn, D: hd, C: hc });
}
if (values.case === 'diffusion' || values.case === 'all') await benchDiffusion(root);
if (values.case === 'discovery' || values.case === 'all') await benchDiscovery(root);
if (['imagenetx', 'head', 'diffusion', 'discovery'].includes(values.case)) process.exit(0);

function resnet50(): string | null {
  const file = join(work, 'resnet50.onnx');
  if (existsSync(file)) return file;
  const py = `import torch, torchvision\nm = torchvision.models.resnet50(weights=None).eval()\ntorch.onnx.export(m, torch.randn(1,3,224,224), ${JSON.stringify(file)}, input_names=['input'], output_names=['logits'], dynamic_axes={'input':{0:'batch'},'logits':{0:'batch'}}, opset_version=17)\n`;
  console.log('exporting torchvision ResNet-50 (random weights) with /usr/bin/python3 ...');
  const r = spawnSync('/usr/bin/python3', ['-c', py], { stdio: 'inherit' });
  return r.status === 0 && existsSync(file) ? file : null;
}

const modelSource = values.model ?? resnet50() ?? join(root, 'native-models', 'shapeworld', 'models', 'classifier');
const preset = values.model ? values.preset : 'imagenet';

// A dataset of N real photos (the shared samples, repeated) in 8 class folders.
const photosDir = join(root, 'test', 'fixtures', 'images');
const photos = readdirSync(photosDir).filter((f) => /\.(jpe?g|png)$/i.test(f));
const dataRoot = join(work, `photos-${N}`);
if (!existsSync(dataRoot)) {
  for (let i = 0; i < N; i++) {
    const src = photos[i % photos.length];
    const dir = join(dataRoot, `class${i % 8}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(photosDir, src), join(dir, `${i}-${src}`));
  }
}
const files = readdirSync(dataRoot).flatMap((c) => readdirSync(join(dataRoot, c)).map((f) => join(dataRoot, c, f)));

const labDir = join(work, 'lab');
rmSync(labDir, { recursive: true, force: true });
const lab = Lab.open(labDir);
const h = createHandlers(lab);
async function call(method: string, params: unknown): Promise<any> {
  const r = await dispatch(h, method, params);
  if (!r.ok) throw new Error(r.error.message);
  return r.result;
}
const { jobId } = await call('datasets.import', { root: dataRoot });
await lab.jobs.wait(jobId);
const model = await call('models.add', { onnx: modelSource, preset });
const clf = await openClassifier(model.dir, { provider: 'cpu' });
const spec = clf.manifest.preprocess;
const presetUsed = clf.manifest.preset;
const per = clf.inputSize;
const B = DEFAULT_BATCH;

// 1. decode-only: the run's own decoding call (decodeBatchCompacted on batches of B, in turn)
let t0 = performance.now();
for (let i = 0; i < files.length; i += B) await decodeBatchCompacted(files.slice(i, i + B), spec);
const decodeOnly = files.length / ((performance.now() - t0) / 1000);

// 2. bare inference on one pre-decoded batch, run as many times as the dataset needs
const input = new Float32Array(B * per);
await Promise.all(files.slice(0, B).map((f, j) => decodeToTensor(f, spec, input, j * per)));
await clf.run(input, B); // warm-up
t0 = performance.now();
for (let i = 0; i < files.length; i += B) await clf.run(input.subarray(0, Math.min(B, files.length - i) * per), Math.min(B, files.length - i));
const bareInference = files.length / ((performance.now() - t0) / 1000);
await clf.close();

// 3. end-to-end: the run job (decode overlapped with inference, predictions + features stored)
t0 = performance.now();
const started = await call('runs.start', { modelId: model.id, datasetId: 1, provider: 'cpu' });
const job = await lab.jobs.wait(started.jobId);
if (job.status !== 'done') throw new Error(`run ${job.status}: ${job.error}`);
const endToEnd = files.length / ((performance.now() - t0) / 1000);
lab.close();

const limit = Math.min(decodeOnly, bareInference);
// When decode and inference both run on the same CPU cores they cannot overlap for free: the
// work-conserving bound is the harmonic sum. It is the relevant ceiling on a CPU-only machine.
const sharedCoresBound = 1 / (1 / decodeOnly + 1 / bareInference);
const result = {
  model: modelSource.replace(root + '/', ''),
  preset: presetUsed,
  images: files.length,
  batch: B,
  input: spec.crop,
  imagesPerSecond: { decodeOnly: +decodeOnly.toFixed(1), bareInference: +bareInference.toFixed(1), endToEnd: +endToEnd.toFixed(1) },
  ratio: { endToEndOverLimit: +(endToEnd / limit).toFixed(3), target: 0.9, endToEndOverSharedCoresBound: +(endToEnd / sharedCoresBound).toFixed(3) },
  pass: endToEnd / limit >= 0.9,
};
console.log(`\nmodel ${result.model} (${presetUsed}, input ${spec.crop.join('x')}), ${files.length} images, batch ${B}, CPU`);
console.log(`  decode-only      ${decodeOnly.toFixed(1)} images/s`);
console.log(`  bare inference   ${bareInference.toFixed(1)} images/s`);
console.log(`  factorlab run    ${endToEnd.toFixed(1)} images/s  = ${(endToEnd / limit).toFixed(3)} x min(decode-only, bare inference)  (target >= 0.9: ${result.pass ? 'met' : 'NOT met'})`);
console.log(`  shared-cores bound 1/(1/decode + 1/inference) = ${sharedCoresBound.toFixed(1)} images/s; factorlab run = ${(endToEnd / sharedCoresBound).toFixed(3)} x that`);
mkdirSync(join(root, 'test-results'), { recursive: true });
writeFileSync(join(root, 'test-results', 'bench.json'), JSON.stringify(result, null, 2));
