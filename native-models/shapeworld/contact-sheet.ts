/**
 * Contact sheet of ShapeWorld scenes, to look at the world:
 *   node native-models/shapeworld/contact-sheet.ts --out /tmp/sheet.png [--split test] [--seed 1]
 *        [--rows 10] [--cols 12] [--zoom 2] [--factor pose] [--background snow]
 * Row r shows class r % 10 (with --factor, every image has that factor set; with --background,
 * every image is on that background). Prints one line per row: the images' class and factors.
 */
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { parseArgs } from 'node:util';
import { createRng } from './rng.ts';
import { CLASSES, FACTORS } from './world.ts';
import type { FactorName } from './world.ts';
import { sampleScene, withFactors, DEFAULT_SETTINGS } from './scene.ts';
import type { Scene, Split } from './scene.ts';
import { renderScene } from './render.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/shapeworld-sheet.png' },
    split: { type: 'string', default: 'test' },
    seed: { type: 'string', default: '1' },
    rows: { type: 'string', default: '10' },
    cols: { type: 'string', default: '12' },
    zoom: { type: 'string', default: '2' },
    factor: { type: 'string' },
    background: { type: 'string' },
    clean: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const cols = Number(values.cols);
const zoom = Number(values.zoom);
const size = 64 * zoom;
const gap = 2;
const composites: OverlayOptions[] = [];
for (let r = 0; r < rows; r++) {
  const desc: string[] = [];
  for (let c = 0; c < cols; c++) {
    let scene: Scene = sampleScene(createRng('sheet', values.seed!, r, c), values.split as Split, DEFAULT_SETTINGS, { classIndex: r % CLASSES.length });
    if (values.clean) {
      const none = Object.fromEntries(FACTORS.map((f) => [f, 0])) as Record<FactorName, 0 | 1>;
      scene = withFactors(scene, none, values.background ?? CLASSES[scene.classIndex]!.usualBackgrounds[0]);
    }
    if (values.factor) {
      const f = values.factor as FactorName;
      const ch: Partial<Record<FactorName, 0 | 1>> = { [f]: 1 };
      if (f === 'larger') Object.assign(ch, { smaller: 0, multiple_objects: 0 });
      if (f === 'smaller') ch.larger = 0;
      if (f === 'darker') ch.brighter = 0;
      if (f === 'brighter') ch.darker = 0;
      if (f === 'multiple_objects') ch.larger = 0;
      scene = withFactors(scene, ch, values.background ?? scene.background);
    } else if (values.background && !values.clean) {
      scene = withFactors(scene, {}, values.background);
    }
    const png = await renderScene(scene, size);
    composites.push({ input: png, left: c * (size + gap), top: r * (size + gap) });
    desc.push(FACTORS.filter((f) => scene.factors[f]).join('+') || '-');
  }
  console.log(`row ${r} ${CLASSES[r % CLASSES.length]!.name}: ${desc.join(' | ')}`);
}
await sharp({ create: { width: cols * (size + gap), height: rows * (size + gap), channels: 3, background: '#808080' } })
  .composite(composites)
  .png()
  .toFile(values.out!);
console.log(`wrote ${values.out}`);
