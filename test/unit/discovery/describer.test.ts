import { describe, expect, it } from 'vitest';
import { composePrompt, descriptionText, loadAttributeVocabulary, parseDescription, phraseFactor } from '../../../electron/core/discovery/attribute-vocabulary.ts';
import { describeImage, type ClassPrompts } from '../../../electron/core/discovery/clip-describer.ts';
import { captionPrompt } from '../../../electron/core/discovery/caption-prompt.ts';
import { captionScene } from '../../../native-models/shapeworld/caption.ts';
import { sceneAt } from '../../../native-models/shapeworld/generate.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

const sw = loadAttributeVocabulary('shapeworld');
const general = loadAttributeVocabulary('general');
const cat = (v: typeof sw, name: string) => v.categories.findIndex((c) => c.name === name);

describe('attribute vocabularies', () => {
  it('compose prompts in the order of ShapeWorld long captions', () => {
    expect(composePrompt(sw, 'star', [])).toBe('a photo of a star');
    const parts = [
      { category: cat(sw, 'style'), phrase: 'a pencil sketch of' },
      { category: cat(sw, 'size'), phrase: 'small' },
      { category: cat(sw, 'colour'), phrase: 'red' },
      { category: cat(sw, 'scene'), phrase: 'on sand' },
      { category: cat(sw, 'lighting'), phrase: 'in dim light' },
    ];
    expect(composePrompt(sw, 'star', parts)).toBe('a pencil sketch of a small red star on sand, in dim light');
    expect(composePrompt(sw, 'arrow', [{ category: cat(sw, 'pose'), phrase: 'upside-down' }])).toBe('a photo of an upside-down arrow');
    expect(composePrompt(sw, 'fish', [{ category: cat(sw, 'count'), phrase: 'two' }, { category: cat(sw, 'scene'), phrase: 'on snow' }])).toBe('a photo of two fish on snow');
    expect(composePrompt(sw, 'cup', [{ category: cat(sw, 'count'), phrase: 'three' }])).toBe('a photo of three cups');
  });

  it('read descriptions back into their parts, and refuse unknown phrases', () => {
    const parts = [
      { category: cat(general, 'size'), phrase: 'small' },
      { category: cat(general, 'scene'), phrase: 'underwater' },
    ];
    const text = descriptionText(parts);
    expect(text).toBe('small, underwater');
    expect(parseDescription(general, text)).toEqual(parts);
    expect(parseDescription(general, 'small, on the moon')).toBeNull();
    expect(parseDescription(general, 'small, tiny')).toBeNull(); // two phrases of one category
    expect(parseDescription(general, '')).toEqual([]);
  });

  it('name an ImageNet-X factor for every phrase', () => {
    for (const v of [sw, general]) {
      v.categories.forEach((c, i) => {
        for (const p of c.phrases) expect(IMAGENET_X_FACTORS).toContain(phraseFactor(v, i, p));
      });
    }
    expect(phraseFactor(sw, cat(sw, 'lighting'), 'overexposed')).toBe('brighter');
  });

  it('ShapeWorld: every phrase is one the world writes in its captions', () => {
    const captions = Array.from({ length: 3000 }, (_, i) => captionScene(sceneAt(7, i % 2 ? 'test' : 'val', i)).long);
    const unseen = sw.categories.flatMap((c) => c.phrases).filter((p) => !captions.some((t) => t.includes(p)));
    expect(unseen).toEqual([]);
  });
});

describe('CLIP describer', () => {
  // 2-d "embeddings": the plain prompt at 0 degrees, phrases at other angles; the image at 60 degrees.
  const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  const scene = cat(sw, 'scene');
  const light = cat(sw, 'lighting');
  const size = cat(sw, 'size');
  const prompts: ClassPrompts = {
    embeds: Float32Array.from([...at(0), ...at(70), ...at(20), ...at(-40), ...at(50), ...at(-90)]),
    rows: [
      { category: scene, phrase: 'on sand' }, // 70: best scene, gain cos10 - cos60
      { category: scene, phrase: 'on grass' }, // 20
      { category: light, phrase: 'in dim light' }, // -40: worse than plain
      { category: size, phrase: 'small' }, // 50: gain cos10 - cos60
      { category: size, phrase: 'large' }, // -90
    ],
  };
  const image = Float32Array.from(at(60));

  it('keeps the categories that beat the plain prompt, best phrase each, in category order', () => {
    const d = describeImage(image, prompts, 2, 3);
    expect(d.parts).toEqual([
      { category: size, phrase: 'small' },
      { category: scene, phrase: 'on sand' },
    ]);
    expect(d.text).toBe('small, on sand');
    expect(d.gains[0]).toBeCloseTo(Math.cos((10 * Math.PI) / 180) - Math.cos((60 * Math.PI) / 180), 6);
  });

  it('with a baseline, describes what sets the image apart from the class as generated', () => {
    // The class's images are all "small"-looking: size's gain is what every image has, so it goes;
    // the scene, which this image has and the others lack, stays.
    // Baseline rows (plain, sand, grass, dim, small, large): gains over plain of 0.2, 0.3, 0, 0.6, 0.
    // This image's gains (cos 10 - cos 60 = 0.485 for sand and small, cos 40 - cos 60 = 0.266 for
    // grass) minus those: sand +0.285 (kept), grass -0.034, small -0.115 (size goes), dim and large < 0.
    const usual = Float32Array.from([0.1, 0.3, 0.4, 0.1, 0.7, 0.1]);
    const d = describeImage(image, prompts, 2, 3, usual);
    expect(d.parts).toEqual([{ category: scene, phrase: 'on sand' }]);
    expect(d.gains[0]).toBeCloseTo(Math.cos((10 * Math.PI) / 180) - 0.5 - 0.2, 6);
    const sims = (deg: number) => [0, 70, 20, -40, 50, -90].map((a) => Math.cos(((deg - a) * Math.PI) / 180));
    const self = describeImage(image, prompts, 2, 3, Float32Array.from(sims(60)));
    expect(self.parts).toHaveLength(1); // no contrast at all: the largest (zero) gain is kept
  });

  it('keeps at most maxAttributes, and at least one', () => {
    expect(describeImage(image, prompts, 2, 1).parts).toHaveLength(1);
    const lost = describeImage(Float32Array.from(at(-2)), prompts, 2, 3); // nothing beats the plain prompt
    expect(lost.parts).toHaveLength(1);
  });
});

describe('caption prompts', () => {
  const nouns = ['star', 'heart', 'fish', 'umbrella'];
  it('put the class under test where the caption names a class', () => {
    expect(captionPrompt('a photo of a small red heart on sand, in dim light', 'star', nouns)).toBe('a photo of a small red star on sand, in dim light');
    expect(captionPrompt('a photo of a heart on sand', 'umbrella', nouns)).toBe('a photo of an umbrella on sand');
    expect(captionPrompt('a photo of two hearts in water.', 'star', nouns)).toBe('a photo of two stars in water');
  });
  it('prefix the class when the caption names none', () => {
    expect(captionPrompt('something blurry on sand', 'fish', nouns)).toBe('a photo of a fish, something blurry on sand');
  });
});
