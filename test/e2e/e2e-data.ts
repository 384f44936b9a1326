// The data the end-to-end tests import: an ImageNet-style folder of 5 classes (the tiny fixture
// folder when there is one, else generated), plus files the import must skip with a reason, and the
// tiny 5-class ONNX classifier with a labels file naming the same classes.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeImage } from '../helpers/make-images.ts';

export interface E2eData {
  datasetRoot: string;
  classes: string[];
  numImages: number;
  /** Files that must appear in the skipped report (relative to datasetRoot). */
  skipped: string[];
  modelOnnx: string;
  modelLabels: string;
  notOnnx: string;
}

export const CLASSES = ['tench', 'goldfish', 'great white shark', 'tiger shark', 'hammerhead'];
const PER_CLASS = 8;

export async function makeE2eData(dir: string, repoRoot: string): Promise<E2eData> {
  const datasetRoot = join(dir, 'tiny');
  const fixture = join(repoRoot, 'test', 'fixtures', 'datasets', 'tiny');
  let classes = CLASSES;
  let numImages = 0;
  if (existsSync(fixture) && process.env.FACTORLAB_E2E_GENERATE !== '1') {
    cpSync(fixture, datasetRoot, { recursive: true });
    classes = readdirSync(datasetRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    for (const c of classes) numImages += readdirSync(join(datasetRoot, c)).filter((f) => /\.(jpe?g|png)$/i.test(f)).length;
  } else {
    for (const [ci, c] of CLASSES.entries()) {
      for (let i = 0; i < PER_CLASS; i++) {
        await writeImage(join(datasetRoot, c, `${c.replace(/ /g, '_')}_${i}.jpg`), {
          w: 40 + 8 * ((i + ci) % 4),
          h: 36 + 6 * (i % 3),
          rgb: [(ci * 53 + i * 17) & 255, (ci * 91 + i * 29) & 255, (ci * 37 + i * 61) & 255],
          format: i % 4 === 3 ? 'png' : 'jpeg',
        });
        numImages++;
      }
    }
  }
  // Files the import has to skip, each for its own reason.
  const first = classes[0];
  writeFileSync(join(datasetRoot, first, 'empty.jpg'), Buffer.alloc(0));
  writeFileSync(join(datasetRoot, first, 'not-really.jpg'), 'this is text, not a JPEG\n');
  writeFileSync(join(datasetRoot, first, 'notes.txt'), 'not an image\n');

  mkdirSync(dir, { recursive: true });
  const modelLabels = join(dir, 'labels.txt');
  writeFileSync(modelLabels, `${classes.slice(0, 5).join('\n')}\n`);
  return {
    datasetRoot,
    classes,
    numImages,
    skipped: [`${first}/empty.jpg`, `${first}/not-really.jpg`],
    modelOnnx: join(repoRoot, 'test', 'fixtures', 'models', 'tiny_gemm.onnx'),
    modelLabels,
    notOnnx: join(repoRoot, 'test', 'fixtures', 'models', 'not_onnx.onnx'),
  };
}
