/**
 * Object drawings: every class and subcategory variant as SVG path parts in a [-1, 1] box
 * (y down). Parts with role body/fixed make the silhouette (used for outline style, pattern and
 * texture clipping); dark/light/line parts are details drawn on top.
 */

export type PartRole = 'body' | 'fixed' | 'dark' | 'light' | 'line';

export interface ShapePart {
  d: string;
  role: PartRole;
  /** Colour of a fixed part (a tree trunk, car wheels): it does not follow the object colour. */
  color?: string;
  /** Fill with the even-odd rule (rings). */
  evenodd?: boolean;
  /** Stroke width of a line part, in object units. */
  width?: number;
}

const f = (n: number): string => String(Math.round(n * 1000) / 1000);

function circle(cx: number, cy: number, r: number): string {
  return `M${f(cx - r)} ${f(cy)}A${f(r)} ${f(r)} 0 1 0 ${f(cx + r)} ${f(cy)}A${f(r)} ${f(r)} 0 1 0 ${f(cx - r)} ${f(cy)}Z`;
}

function ellipse(cx: number, cy: number, rx: number, ry: number): string {
  return `M${f(cx - rx)} ${f(cy)}A${f(rx)} ${f(ry)} 0 1 0 ${f(cx + rx)} ${f(cy)}A${f(rx)} ${f(ry)} 0 1 0 ${f(cx - rx)} ${f(cy)}Z`;
}

function rect(x0: number, y0: number, x1: number, y1: number): string {
  return `M${f(x0)} ${f(y0)}H${f(x1)}V${f(y1)}H${f(x0)}Z`;
}

function poly(points: Array<[number, number]>): string {
  return 'M' + points.map(([x, y]) => `${f(x)} ${f(y)}`).join('L') + 'Z';
}

function star(n: number, outer: number, inner: number, cy = 0): string {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < 2 * n; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / n;
    const r = i % 2 === 0 ? outer : inner;
    pts.push([r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  return poly(pts);
}

const TRUNK = '#6b4423';
const TYRE = '#1f1f1f';
const HANDLE = '#3b2616';

const heartLeft =
  'M0 -0.45C-0.4 -0.95 -1 -0.8 -1 -0.28C-1 0.2 -0.25 0.6 0 0.9L-0.12 0.52L0.1 0.22L-0.1 -0.08L0.07 -0.3Z';
const heartRight =
  'M0 -0.45C0.4 -0.95 1 -0.8 1 -0.28C1 0.2 0.25 0.6 0 0.9L-0.12 0.52L0.1 0.22L-0.1 -0.08L0.07 -0.3Z';

/** SHAPES[className][variantIndex] */
export const SHAPES: Record<string, ShapePart[][]> = {
  star: [
    [{ d: star(5, 1, 0.42, 0.08), role: 'body' }, { d: star(5, 0.3, 0.13, 0.08), role: 'light' }],
    [{ d: star(4, 1, 0.27), role: 'body' }, { d: star(4, 0.3, 0.1), role: 'light' }],
  ],
  heart: [
    [
      { d: 'M0 -0.45C-0.4 -0.95 -1 -0.8 -1 -0.28C-1 0.2 -0.25 0.6 0 0.9C0.25 0.6 1 0.2 1 -0.28C1 -0.8 0.4 -0.95 0 -0.45Z', role: 'body' },
      { d: ellipse(-0.52, -0.42, 0.16, 0.11), role: 'light' },
    ],
    [
      { d: `${heartLeft}`, role: 'body' },
      { d: `${heartRight}`, role: 'body' },
      { d: ellipse(-0.6, -0.42, 0.15, 0.1), role: 'light' },
    ],
  ],
  house: [
    [
      { d: rect(-0.7, -0.1, 0.7, 0.95), role: 'body' },
      { d: rect(0.38, -0.8, 0.6, -0.3), role: 'fixed', color: '#7a3b2e' },
      { d: poly([[-0.98, 0.02], [0, -0.9], [0.98, 0.02]]), role: 'fixed', color: '#9c3d2b' },
      { d: rect(-0.16, 0.4, 0.16, 0.95), role: 'dark' },
      { d: rect(-0.55, 0.2, -0.3, 0.45), role: 'light' },
      { d: rect(0.3, 0.2, 0.55, 0.45), role: 'light' },
    ],
    [
      { d: rect(-0.55, -0.95, 0.55, 0.95), role: 'body' },
      { d: rect(-0.62, -0.98, 0.62, -0.88), role: 'dark' },
      ...[-0.7, -0.35, 0, 0.35].flatMap((y) => [
        { d: rect(-0.38, y, -0.12, y + 0.2), role: 'light' as const },
        { d: rect(0.12, y, 0.38, y + 0.2), role: 'light' as const },
      ]),
      { d: rect(-0.15, 0.6, 0.15, 0.95), role: 'dark' },
    ],
  ],
  tree: [
    [
      { d: rect(-0.13, 0.55, 0.13, 1), role: 'fixed', color: TRUNK },
      { d: poly([[0, 0.65], [-0.95, 0.65], [-0.4, 0.05], [-0.7, 0.05], [-0.25, -0.45], [-0.5, -0.45], [0, -1], [0.5, -0.45], [0.25, -0.45], [0.7, 0.05], [0.4, 0.05], [0.95, 0.65]]), role: 'body' },
    ],
    [
      { d: rect(-0.13, 0.3, 0.13, 1), role: 'fixed', color: TRUNK },
      { d: circle(0, -0.42, 0.52) + circle(-0.48, -0.05, 0.42) + circle(0.48, -0.05, 0.42) + circle(0, 0.05, 0.45), role: 'body' },
    ],
  ],
  fish: [
    [
      { d: poly([[0.3, 0], [0.97, -0.5], [0.82, 0], [0.97, 0.5]]), role: 'body' },
      { d: poly([[-0.4, -0.3], [-0.08, -0.68], [0.18, -0.28]]), role: 'body' },
      { d: 'M-0.9 0C-0.65 -0.55 0.1 -0.58 0.5 0C0.1 0.58 -0.65 0.55 -0.9 0Z', role: 'body' },
      { d: 'M-0.35 -0.32Q-0.22 0 -0.35 0.32', role: 'line', width: 0.07 },
      { d: circle(-0.58, -0.08, 0.1), role: 'light' },
      { d: circle(-0.6, -0.08, 0.05), role: 'fixed', color: '#111111' },
    ],
    [
      { d: poly([[0.55, 0], [0.97, -0.35], [0.9, 0], [0.97, 0.35]]), role: 'body' },
      {
        d: star(14, 0.9, 0.68).replace(/^/, ''),
        role: 'body',
      },
      { d: circle(-0.35, -0.2, 0.13), role: 'light' },
      { d: circle(-0.38, -0.2, 0.065), role: 'fixed', color: '#111111' },
      { d: 'M-0.55 0.22Q-0.4 0.32 -0.25 0.22', role: 'line', width: 0.06 },
    ],
  ],
  car: [
    [
      { d: poly([[-0.97, 0.05], [-0.97, 0.45], [0.97, 0.45], [0.97, 0.05], [0.6, -0.05], [0.35, -0.42], [-0.4, -0.42], [-0.62, -0.05]]), role: 'body' },
      { d: poly([[-0.5, -0.08], [-0.33, -0.33], [-0.05, -0.33], [-0.05, -0.08]]), role: 'light' },
      { d: poly([[0.05, -0.08], [0.05, -0.33], [0.3, -0.33], [0.47, -0.08]]), role: 'light' },
      { d: circle(-0.55, 0.45, 0.24), role: 'fixed', color: TYRE },
      { d: circle(0.55, 0.45, 0.24), role: 'fixed', color: TYRE },
      { d: circle(-0.55, 0.45, 0.1), role: 'fixed', color: '#b0b0b0' },
      { d: circle(0.55, 0.45, 0.1), role: 'fixed', color: '#b0b0b0' },
    ],
    [
      { d: rect(-0.97, -0.6, 0.3, 0.45), role: 'body' },
      { d: poly([[0.36, 0.45], [0.36, -0.35], [0.75, -0.35], [0.97, 0.02], [0.97, 0.45]]), role: 'body' },
      { d: poly([[0.46, -0.25], [0.7, -0.25], [0.85, -0.02], [0.46, -0.02]]), role: 'light' },
      { d: circle(-0.62, 0.48, 0.2), role: 'fixed', color: TYRE },
      { d: circle(-0.18, 0.48, 0.2), role: 'fixed', color: TYRE },
      { d: circle(0.66, 0.48, 0.2), role: 'fixed', color: TYRE },
    ],
  ],
  cup: [
    [
      { d: ellipse(0.48, 0.1, 0.4, 0.36) + ellipse(0.48, 0.1, 0.2, 0.18), role: 'body', evenodd: true },
      { d: 'M-0.62 -0.6H0.45V0.62Q0.45 0.85 0.22 0.85H-0.39Q-0.62 0.85 -0.62 0.62Z', role: 'body' },
      { d: ellipse(-0.085, -0.6, 0.535, 0.12), role: 'dark' },
    ],
    [
      { d: 'M-0.55 -0.95H0.55Q0.62 -0.1 0 0.08Q-0.62 -0.1 -0.55 -0.95Z', role: 'body' },
      { d: rect(-0.06, 0, 0.06, 0.82), role: 'body' },
      { d: ellipse(0, 0.84, 0.45, 0.11), role: 'body' },
      { d: 'M-0.5 -0.55H0.5Q0.5 -0.1 0 0Q-0.5 -0.1 -0.5 -0.55Z', role: 'fixed', color: '#7b1530' },
    ],
  ],
  key: [
    [
      { d: circle(-0.6, 0, 0.38) + circle(-0.6, 0, 0.17), role: 'body', evenodd: true },
      { d: rect(-0.26, -0.09, 0.97, 0.09), role: 'body' },
      { d: rect(0.48, 0.05, 0.6, 0.36), role: 'body' },
      { d: rect(0.74, 0.05, 0.86, 0.28), role: 'body' },
      { d: rect(-0.15, -0.03, 0.9, 0.03), role: 'dark' },
    ],
    [
      {
        d: poly([[-0.97, 0], [-0.62, -0.38], [-0.27, 0], [-0.62, 0.38]]) + poly([[-0.8, 0], [-0.62, -0.18], [-0.44, 0], [-0.62, 0.18]]),
        role: 'body',
        evenodd: true,
      },
      { d: rect(-0.32, -0.06, 0.97, 0.06), role: 'body' },
      { d: poly([[0.62, 0.04], [0.62, 0.45], [0.75, 0.45], [0.75, 0.3], [0.86, 0.3], [0.86, 0.45], [0.97, 0.45], [0.97, 0.04]]), role: 'body' },
      { d: rect(-0.2, -0.2, -0.12, 0.2), role: 'body' },
    ],
  ],
  arrow: [
    [
      { d: poly([[-0.75, -0.12], [0.3, -0.12], [0.3, -0.45], [0.97, 0], [0.3, 0.45], [0.3, 0.12], [-0.75, 0.12]]), role: 'body' },
      { d: poly([[-0.97, -0.4], [-0.6, -0.4], [-0.38, -0.12], [-0.38, 0.12], [-0.6, 0.4], [-0.97, 0.4], [-0.75, 0]]), role: 'dark' },
    ],
    [
      { d: poly([[-0.97, 0], [-0.35, -0.45], [-0.35, -0.13], [0.35, -0.13], [0.35, -0.45], [0.97, 0], [0.35, 0.45], [0.35, 0.13], [-0.35, 0.13], [-0.35, 0.45]]), role: 'body' },
    ],
  ],
  umbrella: [
    [
      {
        d: 'M-0.97 -0.02A0.97 0.92 0 0 1 0.97 -0.02Q0.73 -0.2 0.485 -0.02Q0.24 -0.2 0 -0.02Q-0.24 -0.2 -0.485 -0.02Q-0.73 -0.2 -0.97 -0.02Z',
        role: 'body',
      },
      { d: 'M0 -0.94V-0.1M0 -0.94Q-0.45 -0.6 -0.485 -0.1M0 -0.94Q0.45 -0.6 0.485 -0.1', role: 'line', width: 0.05 },
      {
        d: 'M-0.05 -0.1H0.05V0.72A0.2 0.2 0 0 1 -0.35 0.72V0.64H-0.25V0.72A0.1 0.1 0 0 0 -0.05 0.72Z',
        role: 'fixed',
        color: HANDLE,
      },
    ],
    [
      { d: 'M-0.05 -0.8H0.05V-0.45H-0.05Z', role: 'fixed', color: HANDLE },
      { d: 'M-0.05 -0.75A0.2 0.2 0 0 1 0.35 -0.75V-0.66H0.25V-0.75A0.1 0.1 0 0 0 0.05 -0.75Z', role: 'fixed', color: HANDLE },
      { d: poly([[-0.22, -0.48], [0.22, -0.48], [0.05, 0.8], [0, 0.97], [-0.05, 0.8]]), role: 'body' },
      { d: rect(-0.15, -0.12, 0.15, -0.02), role: 'dark' },
      { d: 'M-0.12 -0.45L-0.02 0.75M0.12 -0.45L0.02 0.75', role: 'line', width: 0.035 },
    ],
  ],
};

/** Silhouette parts (body and fixed) of a class variant. */
export function silhouetteParts(className: string, variant: number): ShapePart[] {
  return shapeParts(className, variant).filter((p) => p.role === 'body' || p.role === 'fixed');
}

export function shapeParts(className: string, variant: number): ShapePart[] {
  const variants = SHAPES[className];
  if (!variants) throw new Error(`ShapeWorld: no drawing for class ${className}`);
  const parts = variants[variant];
  if (!parts) throw new Error(`ShapeWorld: class ${className} has no variant ${variant}`);
  return parts;
}
