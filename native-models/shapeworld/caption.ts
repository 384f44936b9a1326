/**
 * Words for scenes: captions (for CLIP training and diffusion prompts) and the ImageNet-X
 * justification / one_word fields. All derived from the scene's ground truth.
 */
import { BACKGROUNDS, CLASSES } from './world.ts';
import type { FactorName } from './world.ts';
import { colorWord } from './color.ts';
import { apparentRotation } from './scene.ts';
import type { Scene } from './scene.ts';

export interface Captions {
  /** "a photo of a {class} {background phrase}": the Chegini-Feizi prompt form. */
  short: string;
  /** Names the other factors too: count, size, colour, pattern, texture, style, pose, occlusion, light. */
  long: string;
}

const VOWEL = /^[aeiou]/i;
const article = (w: string): string => (VOWEL.test(w) ? `an ${w}` : `a ${w}`);

export function plural(noun: string): string {
  if (noun.endsWith('fish')) return noun;
  if (/(s|x|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

function bgPhrase(scene: Scene): string {
  return BACKGROUNDS[scene.backgroundIndex]!.phrase;
}

function colorOf(scene: Scene): string {
  const cls = CLASSES[scene.classIndex]!;
  return scene.factors.color ? colorWord(scene.object.color) : cls.colorName;
}

function poseWord(scene: Scene): string {
  const a = apparentRotation(scene.object.instances[0]!.rotation, scene.className, scene.object.variant);
  return a > 135 ? 'upside-down' : a > 60 ? 'sideways' : 'tilted';
}

function noun(scene: Scene): string {
  const cls = CLASSES[scene.classIndex]!;
  if (!scene.factors.subcategory) return cls.name;
  const v = scene.object.variantName;
  return v.includes(cls.name) ? v : `${v} ${cls.name}`;
}

/** Short and long captions of a scene. */
export function captionScene(scene: Scene): Captions {
  const cls = CLASSES[scene.classIndex]!;
  const f = scene.factors;
  const short = `a photo of ${article(cls.name)} ${bgPhrase(scene)}`;
  const adj: string[] = [];
  if (f.smaller) adj.push('small');
  if (f.larger) adj.push('large');
  if (f.pose) adj.push(poseWord(scene));
  if (f.shape) adj.push(scene.object.stretchX > scene.object.stretchY ? 'stretched' : 'squashed');
  if (f.texture) adj.push(scene.object.texture?.kind === 'fur' ? 'furry' : 'speckled');
  if (f.pattern) adj.push({ stripes: 'striped', dots: 'polka-dot', checks: 'checkered' }[scene.object.pattern?.kind ?? 'stripes']);
  adj.push(colorOf(scene));
  const n = scene.object.instances.length;
  const nn = noun(scene);
  const head = n > 1 ? `${n === 2 ? 'two' : 'three'} ${adj.join(' ')} ${plural(nn)}` : article(`${adj.join(' ')} ${nn}`);
  const medium =
    scene.object.style === 'outline' ? 'an outline drawing of' : scene.object.style === 'sketch' ? 'a pencil sketch of' : 'a photo of';
  const tail: string[] = [];
  if (f.partial_view && scene.object.cut) tail.push(`cut off by the ${scene.object.cut.edge} edge of the frame`);
  if (f.object_blocking && scene.occluder) tail.push(`partly hidden behind ${article(scene.occluder.kind)}`);
  if (f.person_blocking) tail.push('partly hidden behind a person');
  if (f.darker) tail.push('in dim light');
  if (f.brighter) tail.push('overexposed');
  const long = [`${medium} ${head} ${bgPhrase(scene)}`, ...tail].join(', ');
  return { short, long };
}

function factorClause(scene: Scene, factor: FactorName): string {
  const cls = CLASSES[scene.classIndex]!;
  const o = scene.object;
  switch (factor) {
    case 'pose':
      return `it is ${poseWord(scene)} (turned ${Math.round(Math.abs(o.instances[0]!.rotation))} degrees)`;
    case 'background': {
      const usual = cls.usualBackgrounds.map((b) => BACKGROUNDS.find((x) => x.name === b)!.label).join(' or ');
      return `it is ${bgPhrase(scene)}, not on its usual ${usual}`;
    }
    case 'pattern':
      return `it has a ${o.pattern?.kind === 'dots' ? 'dotted' : o.pattern?.kind === 'checks' ? 'checkered' : 'striped'} pattern`;
    case 'color':
      return `it is ${colorWord(o.color)} instead of ${cls.colorName}`;
    case 'smaller':
      return 'it is much smaller than usual';
    case 'shape':
      return `its shape is ${o.stretchX > o.stretchY ? 'stretched' : 'squashed'} and skewed`;
    case 'partial_view':
      return `it is cut off by the ${o.cut?.edge ?? ''} edge of the frame`;
    case 'subcategory':
      return `it is ${article(o.variantName)}, an uncommon kind of ${cls.name}`;
    case 'texture':
      return `its surface looks ${o.texture?.kind === 'fur' ? 'furry' : 'speckled'}`;
    case 'larger':
      return 'it fills most of the frame';
    case 'darker':
      return 'the image is dark';
    case 'object_blocking':
      return `it is partly hidden behind ${article(scene.occluder?.kind ?? 'object')}`;
    case 'person_blocking':
      return 'a person stands in front of it';
    case 'style':
      return `it is drawn as ${o.style === 'sketch' ? 'a pencil sketch' : 'an outline'}`;
    case 'brighter':
      return 'the image is overexposed';
    case 'multiple_objects':
      return `there are ${o.instances.length} ${plural(cls.name)}`;
  }
}

/** ImageNet-X "justification": a sentence saying why the factors are set. */
export function justification(scene: Scene): string {
  const cls = CLASSES[scene.classIndex]!;
  const active = (Object.keys(scene.factors) as FactorName[]).filter((f) => scene.factors[f] === 1);
  if (active.length === 0) return `A typical ${cls.colorName} ${cls.name} ${bgPhrase(scene)}.`;
  const order = scene.topFactor ? [scene.topFactor, ...active.filter((f) => f !== scene.topFactor)] : active;
  const text = order.map((f) => factorClause(scene, f)).join('; ');
  return `${cls.name[0]!.toUpperCase()}${cls.name.slice(1)}: ${text}.`;
}

/** ImageNet-X "one_word": a few words naming the top factor. */
export function oneWord(scene: Scene): string {
  const o = scene.object;
  switch (scene.topFactor) {
    case null:
      return 'typical';
    case 'pose':
      return poseWord(scene);
    case 'background':
      return BACKGROUNDS[scene.backgroundIndex]!.label;
    case 'pattern':
      return o.pattern?.kind ?? 'pattern';
    case 'color':
      return colorWord(o.color);
    case 'smaller':
      return 'small';
    case 'shape':
      return 'distorted';
    case 'partial_view':
      return 'cropped';
    case 'subcategory':
      return o.variantName;
    case 'texture':
      return o.texture?.kind === 'fur' ? 'furry' : 'speckled';
    case 'larger':
      return 'close up';
    case 'darker':
      return 'dark';
    case 'object_blocking':
      return `behind ${scene.occluder?.kind ?? 'object'}`;
    case 'person_blocking':
      return 'behind person';
    case 'style':
      return o.style;
    case 'brighter':
      return 'overexposed';
    case 'multiple_objects':
      return `${o.instances.length} ${plural(CLASSES[scene.classIndex]!.name)}`;
  }
}
