// Turns the trained ShapeWorld CNN export into a classifier model package with the same writer
// that `factorlab model add` uses, so nothing downstream knows it runs on the demo.
//   node native-models/shapeworld/package-classifier.ts --onnx FILE --labels labels.txt --out DIR
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClassifierPackage } from '../classifier/index.ts';
import type { PreprocessSpec } from '../preprocess/index.ts';

/** The training script's preprocessing: the 64 x 64 image scaled to 0..1, normalised with 0.5 / 0.5. */
export const SHAPEWORLD_PREPROCESS: PreprocessSpec = {
  resize_shorter: null,
  crop: [64, 64],
  interpolation: 'bilinear',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  channel_order: 'RGB',
  layout: 'NCHW',
};

export async function packageShapeWorldClassifier(onnx: string, labels: string, out: string, report?: string): Promise<void> {
  const staging = `${out}.staging`;
  rmSync(staging, { recursive: true, force: true });
  await createClassifierPackage({ onnxPath: onnx, outDir: staging, name: 'shapeworld-cnn', preset: 'none', labelsPath: labels, preprocess: SHAPEWORLD_PREPROCESS });
  copyFileSync(labels, join(staging, 'labels.txt'));
  if (report && existsSync(report)) copyFileSync(report, join(staging, 'train_report.json'));
  rmSync(out, { recursive: true, force: true });
  renameSync(staging, out);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { onnx: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string' }, report: { type: 'string' } } });
  if (!values.onnx || !values.labels || !values.out) {
    console.error('usage: package-classifier.ts --onnx FILE --labels FILE --out DIR [--report train_report.json]');
    process.exit(2);
  }
  await packageShapeWorldClassifier(values.onnx, values.labels, values.out, values.report);
  console.log(`wrote ${values.out}: ${readFileSync(join(values.out, 'manifest.json'), 'utf8').length} bytes of manifest`);
}
