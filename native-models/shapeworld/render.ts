/**
 * Scene -> SVG -> PNG (sharp / librsvg). A pure function of the scene: the same scene always gives
 * the same bytes.
 */
import sharp from 'sharp';
import { backgroundSvg } from './backgrounds.ts';
import { hslToHex, shade } from './color.ts';
import { createRng } from './rng.ts';
import { shapeParts } from './shapes.ts';
import type { ShapePart } from './shapes.ts';
import type { Instance, Occluder, Person, Scene } from './scene.ts';
import { DEFAULT_IMAGE_SIZE, W } from './frame.ts';

const n2 = (x: number): string => (Math.round(x * 100) / 100).toString();
const n3 = (x: number): string => (Math.round(x * 1000) / 1000).toString();

function instanceTransform(inst: Instance, sx: number, sy: number, skew: number): string {
  const half = (inst.scale * W) / 2;
  return `translate(${n2(inst.cx)} ${n2(inst.cy)}) rotate(${n2(inst.rotation)}) skewX(${n2(skew)}) scale(${n3(half * sx * (inst.flip ? -1 : 1))} ${n3(half * sy)})`;
}

function fillRule(p: ShapePart): string {
  return p.evenodd ? ' fill-rule="evenodd" clip-rule="evenodd"' : '';
}

function patternSvg(scene: Scene, unitPx: number): string {
  const pat = scene.object.pattern;
  if (!pat) return '';
  const col = hslToHex(pat.color);
  const sp = pat.spacingPx / unitPx;
  let d = '';
  if (pat.kind === 'stripes') {
    for (let x = -1.6; x <= 1.6; x += sp) d += `M${n3(x)} -1.6V1.6`;
    return `<path d="${d}" stroke="${col}" stroke-width="${n3(sp * 0.45)}" transform="rotate(${n2(pat.angle)})"/>`;
  }
  if (pat.kind === 'dots') {
    const rr = sp * 0.24;
    for (let y = -1.5; y <= 1.5; y += sp) {
      for (let x = -1.5; x <= 1.5; x += sp) d += `M${n3(x - rr)} ${n3(y)}a${n3(rr)} ${n3(rr)} 0 1 0 ${n3(2 * rr)} 0a${n3(rr)} ${n3(rr)} 0 1 0 ${n3(-2 * rr)} 0z`;
    }
    return `<path d="${d}" fill="${col}" transform="rotate(${n2(pat.angle)})"/>`;
  }
  const c = sp * 0.6;
  let i = 0;
  for (let y = -1.6; y <= 1.6; y += c, i++) {
    let j = 0;
    for (let x = -1.6; x <= 1.6; x += c, j++) if ((i + j) % 2 === 0) d += `M${n3(x)} ${n3(y)}h${n3(c)}v${n3(c)}h${n3(-c)}z`;
  }
  return `<path d="${d}" fill="${col}" transform="rotate(${n2(pat.angle)})"/>`;
}

function textureSvg(scene: Scene, unitPx: number, body: ShapePart[]): { inside: string; edge: string } {
  const tex = scene.object.texture;
  if (!tex) return { inside: '', edge: '' };
  const r = createRng('texture', tex.seed);
  const c = scene.object.color;
  const px = 1 / unitPx;
  if (tex.kind === 'fur') {
    const flow = r.uniform(0, Math.PI);
    let inside = '';
    for (const [dl, n] of [
      [-22, 70],
      [16, 50],
    ] as const) {
      let d = '';
      for (let i = 0; i < n; i++) {
        const x = r.uniform(-1, 1);
        const y = r.uniform(-1, 1);
        const a = flow + r.uniform(-0.5, 0.5);
        const len = r.uniform(2.5, 4.5) * px;
        d += `M${n3(x)} ${n3(y)}l${n3(Math.cos(a) * len)} ${n3(Math.sin(a) * len)}`;
      }
      inside += `<path d="${d}" stroke="${hslToHex(shade(c, dl))}" stroke-width="${n3(0.9 * px)}" stroke-linecap="round" fill="none"/>`;
    }
    const edge = body
      .map((p) => `<path d="${p.d}" fill="none" stroke="${hslToHex(shade(c, -12))}" stroke-width="${n3(2.6 * px)}" stroke-dasharray="${n3(0.8 * px)} ${n3(1.1 * px)}"/>`)
      .join('');
    return { inside, edge };
  }
  let inside = '';
  for (const dl of [-30, -15, 18, 32]) {
    let d = '';
    for (let i = 0; i < 45; i++) {
      const x = r.uniform(-1, 1);
      const y = r.uniform(-1, 1);
      const s = r.uniform(0.7, 1.6) * px;
      d += `M${n3(x)} ${n3(y)}l${n3(s)} ${n3(s * 0.3)}l${n3(-s * 0.4)} ${n3(s)}z`;
    }
    inside += `<path d="${d}" fill="${hslToHex(shade(c, dl))}"/>`;
  }
  return { inside, edge: '' };
}

function objectSvg(scene: Scene, idx: number, inst: Instance): string {
  const o = scene.object;
  const parts = shapeParts(scene.className, o.variant);
  const unitPx = ((inst.scale * W) / 2) * Math.sqrt(Math.abs(o.stretchX * o.stretchY));
  const px = 1 / unitPx;
  const body = parts.filter((p) => p.role === 'body');
  const silhouette = parts.filter((p) => p.role === 'body' || p.role === 'fixed');
  const details = parts.filter((p) => p.role === 'dark' || p.role === 'light' || p.role === 'line');
  const fill = hslToHex(o.color);
  const dark = hslToHex(shade(o.color, o.color.l > 50 ? -28 : -18));
  const light = hslToHex(shade(o.color, o.color.l > 70 ? 10 : 25));
  const outlineCol = hslToHex(shade(o.color, -35));
  const clipId = `body${idx}`;
  const clip = `<clipPath id="${clipId}">${body.map((p) => `<path d="${p.d}"${fillRule(p)}/>`).join('')}</clipPath>`;
  const detailSvg = (strokeOnly: boolean, col?: string): string =>
    details
      .map((p) => {
        if (p.role === 'line') return `<path d="${p.d}" fill="none" stroke="${col ?? dark}" stroke-width="${n3(Math.max(p.width ?? 0.05, 0.7 * px))}" stroke-linecap="round"/>`;
        if (strokeOnly) return `<path d="${p.d}" fill="none" stroke="${col ?? dark}" stroke-width="${n3(0.8 * px)}"/>`;
        return `<path d="${p.d}" fill="${p.role === 'dark' ? dark : light}"${fillRule(p)}/>`;
      })
      .join('');
  const patterned = (): string => {
    const pat = patternSvg(scene, unitPx);
    const tex = textureSvg(scene, unitPx, body);
    if (!pat && !tex.inside && !tex.edge) return '';
    return `${tex.edge}<g clip-path="url(#${clipId})">${pat}${tex.inside}</g>`;
  };
  let inner = '';
  if (o.style === 'filled') {
    // Outline under the fills: only the outer contour of the union shows.
    inner += silhouette.map((p) => `<path d="${p.d}" fill="${outlineCol}" stroke="${outlineCol}" stroke-width="${n3(1.6 * px)}" stroke-linejoin="round"${fillRule(p)}/>`).join('');
    inner += silhouette.map((p) => `<path d="${p.d}" fill="${p.role === 'fixed' ? p.color : fill}"${fillRule(p)}/>`).join('');
    inner += patterned();
    inner += detailSvg(false);
  } else if (o.style === 'outline') {
    inner += patterned();
    inner += silhouette.map((p) => `<path d="${p.d}" fill="none" stroke="${p.role === 'fixed' ? p.color : fill}" stroke-width="${n3(1.7 * px)}" stroke-linejoin="round"/>`).join('');
    inner += detailSvg(true, fill);
  } else {
    const r = createRng('sketch', scene.seed, idx);
    const pencil = '#2b2b2b';
    inner += patterned();
    let hatch = '';
    const sp = 3.2 * px;
    for (let x = -2; x <= 2; x += sp) hatch += `M${n3(x)} -1.2l${n3(-1.2)} 2.4`;
    inner += `<g clip-path="url(#${clipId})"><path d="${hatch}" stroke="${hslToHex(shade(o.color, -10))}" stroke-width="${n3(0.6 * px)}" opacity="0.8"/></g>`;
    for (let k = 0; k < 2; k++) {
      const t = `translate(${n3(r.uniform(-1, 1) * px)} ${n3(r.uniform(-1, 1) * px)}) rotate(${n2(r.uniform(-3, 3))})`;
      inner += `<g transform="${t}">${silhouette.map((p) => `<path d="${p.d}" fill="none" stroke="${pencil}" stroke-width="${n3(0.75 * px)}" stroke-linejoin="round"/>`).join('')}</g>`;
    }
    inner += detailSvg(true, pencil);
  }
  return `<defs>${clip}</defs><g transform="${instanceTransform(inst, o.stretchX, o.stretchY, o.skew)}">${inner}</g>`;
}

function occluderSvg(o: Occluder, solid?: string): string {
  const col = solid ?? hslToHex(o.color);
  const edge = solid ?? hslToHex(shade(o.color, -18));
  const t = `translate(${n2(o.cx)} ${n2(o.cy)}) rotate(${n2(o.rotation)}) scale(${n3(o.size)})`;
  if (o.kind === 'box') {
    const plank = solid ?? hslToHex(shade(o.color, -12));
    return `<g transform="${t}"><rect x="-1" y="-1" width="2" height="2" fill="${col}" stroke="${edge}" stroke-width="0.08"/><path d="M-1 -1L1 1M-1 -0.35H1M-1 0.35H1" stroke="${plank}" stroke-width="0.1" fill="none"/></g>`;
  }
  const r = createRng('rock', o.seed);
  const pts: string[] = [];
  const n = 9;
  for (let i = 0; i < n; i++) {
    const a = (i / n) * 2 * Math.PI;
    const rad = r.uniform(0.78, 1.05);
    pts.push(`${n3(Math.cos(a) * rad)} ${n3(Math.sin(a) * rad * 0.85)}`);
  }
  return `<g transform="${t}"><path d="M${pts.join('L')}Z" fill="${col}" stroke="${edge}" stroke-width="0.08" stroke-linejoin="round"/><path d="M-0.4 -0.35l0.3 -0.15M0.2 0.2l0.35 0.05" stroke="${edge}" stroke-width="0.07" fill="none"/></g>`;
}

function personSvg(p: Person, solid?: string): string {
  const t = `translate(${n2(p.cx)} ${n2(p.cy)}) scale(${n3(p.height)})`;
  const skin = solid ?? hslToHex(p.skin);
  const shirt = solid ?? hslToHex(p.shirt);
  const pants = solid ?? hslToHex(p.pants);
  const hair = solid ?? hslToHex({ h: 25, s: 30, l: 15 });
  return (
    `<g transform="${t}">` +
    `<path d="M-0.16 0.1H-0.02V0.5H-0.16ZM0.02 0.1H0.16V0.5H0.02Z" fill="${pants}"/>` +
    `<path d="M-0.2 -0.2L-0.3 0.08L-0.24 0.11L-0.15 -0.1ZM0.2 -0.2L0.3 0.08L0.24 0.11L0.15 -0.1Z" fill="${shirt}"/>` +
    `<path d="M-0.16 -0.25H0.16Q0.2 -0.25 0.2 -0.2V0.14H-0.2V-0.2Q-0.2 -0.25 -0.16 -0.25Z" fill="${shirt}"/>` +
    `<circle cx="-0.27" cy="0.1" r="0.04" fill="${skin}"/><circle cx="0.27" cy="0.1" r="0.04" fill="${skin}"/>` +
    `<circle cx="0" cy="-0.37" r="0.11" fill="${skin}"/>` +
    `<path d="M-0.11 -0.38A0.11 0.11 0 0 1 0.11 -0.38Q0 -0.43 -0.11 -0.38Z" fill="${hair}"/>` +
    `</g>`
  );
}

export interface RenderOptions {
  /** Render the object's visible mask instead: object white, all else black (occluders hide it). */
  mask?: boolean;
}

/** The SVG document of a scene (world frame 64 x 64, drawn at size x size pixels). */
export function sceneToSvg(scene: Scene, size: number = DEFAULT_IMAGE_SIZE, options: RenderOptions = {}): string {
  let body = '';
  if (options.mask) {
    body += `<rect width="${W}" height="${W}" fill="#000"/>`;
    const parts = shapeParts(scene.className, scene.object.variant).filter((p) => p.role !== 'line');
    for (const inst of scene.object.instances) {
      const t = instanceTransform(inst, scene.object.stretchX, scene.object.stretchY, scene.object.skew);
      body += `<g transform="${t}">${parts.map((p) => `<path d="${p.d}" fill="#fff"${fillRule(p)}/>`).join('')}</g>`;
    }
    if (scene.occluder) body += occluderSvg(scene.occluder, '#000000');
    if (scene.person) body += personSvg(scene.person, '#000000');
  } else {
    body += backgroundSvg(scene.background, scene.backgroundSeed);
    scene.object.instances.forEach((inst, i) => {
      body += objectSvg(scene, i, inst);
    });
    if (scene.occluder) body += occluderSvg(scene.occluder);
    if (scene.person) body += personSvg(scene.person);
    const l = scene.lighting;
    if (l.amount > 0) body += `<rect width="${W}" height="${W}" fill="${l.kind === 'darken' ? '#000' : '#fff'}" opacity="${n3(l.amount)}"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${W} ${W}">${body}</svg>`;
}

/** Render a scene to PNG bytes (RGB, size x size; the default size is 64). */
export async function renderScene(scene: Scene, size: number = DEFAULT_IMAGE_SIZE): Promise<Buffer> {
  return sharp(Buffer.from(sceneToSvg(scene, size))).removeAlpha().png({ compressionLevel: 6 }).toBuffer();
}

/** Render the visible object mask (1 channel PNG: 255 = visible object pixel). */
export async function renderMask(scene: Scene, size: number = DEFAULT_IMAGE_SIZE): Promise<Buffer> {
  return sharp(Buffer.from(sceneToSvg(scene, size, { mask: true }))).greyscale().png({ compressionLevel: 6 }).toBuffer();
}

/** Raw RGB pixels of a rendered scene (size * size * 3 bytes). */
export async function renderRaw(scene: Scene, size: number = DEFAULT_IMAGE_SIZE): Promise<Buffer> {
  return sharp(Buffer.from(sceneToSvg(scene, size))).removeAlpha().raw().toBuffer();
}

