/**
 * Procedural background textures, drawn in SVG in the 64x64 world frame. Each draws from its own
 * seeded stream, so the background of a scene is fixed by (name, seed). Small strokes are merged into
 * a few multi-subpath <path> elements: librsvg's cost grows with the element count, not the
 * subpath count.
 */
import { createRng } from './rng.ts';
import type { Rng } from './rng.ts';
import { hslToHex } from './color.ts';
import { W } from './frame.ts';

const n1 = (x: number): string => (Math.round(x * 10) / 10).toString();

function hex(h: number, s: number, l: number): string {
  return hslToHex({ h, s, l });
}

function grass(r: Rng): string {
  const h = r.uniform(88, 108);
  const base = hex(h, r.uniform(40, 55), r.uniform(34, 42));
  let out = `<rect width="${W}" height="${W}" fill="${base}"/>`;
  const shades = [-9, -4, 6, 12];
  for (const dl of shades) {
    let d = '';
    for (let i = 0; i < 45; i++) {
      const x = r.uniform(-2, W + 2);
      const y = r.uniform(0, W + 4);
      d += `M${n1(x)} ${n1(y)}l${n1(r.uniform(-1.8, 1.8))} ${n1(-r.uniform(3, 6.5))}`;
    }
    out += `<path d="${d}" stroke="${hex(h + r.uniform(-6, 6), 50, 38 + dl)}" stroke-width="0.9" stroke-linecap="round" fill="none"/>`;
  }
  return out;
}

function sand(r: Rng): string {
  const h = r.uniform(36, 46);
  const l = r.uniform(68, 76);
  let out = `<rect width="${W}" height="${W}" fill="${hex(h, 55, l)}"/>`;
  let dunes = '';
  const y0 = r.uniform(0, 10);
  for (let y = y0; y < W + 6; y += r.uniform(9, 14)) {
    const a = r.uniform(1.5, 3.5);
    const ph = r.uniform(0, 20);
    dunes += `M-2 ${n1(y)}`;
    for (let x = -2; x <= W + 8; x += 8) dunes += `Q${n1(x + 4)} ${n1(y + (((x + ph) / 8) % 2 < 1 ? -a : a))} ${n1(x + 8)} ${n1(y)}`;
  }
  out += `<path d="${dunes}" stroke="${hex(h, 45, l - 12)}" stroke-width="1.3" fill="none" opacity="0.7"/>`;
  for (const dl of [-18, 12]) {
    let d = '';
    for (let i = 0; i < 60; i++) {
      const x = r.uniform(0, W);
      const y = r.uniform(0, W);
      d += `M${n1(x)} ${n1(y)}h0.6v0.6h-0.6z`;
    }
    out += `<path d="${d}" fill="${hex(h, 40, l + dl)}"/>`;
  }
  return out;
}

function water(r: Rng): string {
  const h = r.uniform(198, 212);
  const l = r.uniform(36, 44);
  let out = `<defs><linearGradient id="bgw" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${hex(h, 65, l + 8)}"/><stop offset="1" stop-color="${hex(h + 6, 70, l - 6)}"/></linearGradient></defs><rect width="${W}" height="${W}" fill="url(#bgw)"/>`;
  for (const [dl, n, w] of [
    [22, 14, 1.1],
    [-10, 10, 1.2],
  ] as const) {
    let d = '';
    for (let i = 0; i < n; i++) {
      const x = r.uniform(-6, W);
      const y = r.uniform(0, W);
      const len = r.uniform(6, 12);
      d += `M${n1(x)} ${n1(y)}q${n1(len / 4)} -2 ${n1(len / 2)} 0t${n1(len / 2)} 0`;
    }
    out += `<path d="${d}" stroke="${hex(h - 5, 70, l + dl)}" stroke-width="${w}" fill="none" stroke-linecap="round"/>`;
  }
  return out;
}

function snow(r: Rng): string {
  const h = r.uniform(200, 220);
  let out = `<rect width="${W}" height="${W}" fill="${hex(h, 30, r.uniform(92, 96))}"/>`;
  let drifts = '';
  for (let i = 0; i < 5; i++) {
    const cx = r.uniform(0, W);
    const cy = r.uniform(0, W);
    const rx = r.uniform(8, 20);
    const ry = r.uniform(3, 6);
    drifts += `M${n1(cx - rx)} ${n1(cy)}a${n1(rx)} ${n1(ry)} 0 1 0 ${n1(2 * rx)} 0a${n1(rx)} ${n1(ry)} 0 1 0 ${n1(-2 * rx)} 0z`;
  }
  out += `<path d="${drifts}" fill="${hex(h, 35, 84)}" opacity="0.8"/>`;
  let flakes = '';
  for (let i = 0; i < 40; i++) {
    const x = r.uniform(0, W);
    const y = r.uniform(0, W);
    flakes += `M${n1(x)} ${n1(y)}h0.8v0.8h-0.8z`;
  }
  out += `<path d="${flakes}" fill="${hex(h, 40, 78)}"/>`;
  return out;
}

function brick(r: Rng): string {
  const h = r.uniform(5, 18);
  const mortar = hex(35, 12, r.uniform(70, 80));
  let out = `<rect width="${W}" height="${W}" fill="${mortar}"/>`;
  const bh = r.uniform(6, 7.5);
  const bw = bh * 2.1;
  const ox = r.uniform(0, bw);
  const oy = r.uniform(0, bh);
  const groups: string[] = ['', '', ''];
  let row = 0;
  for (let y = -oy; y < W; y += bh, row++) {
    const shift = row % 2 === 0 ? 0 : bw / 2;
    for (let x = -ox - shift; x < W; x += bw) {
      const g = r.int(0, 2);
      groups[g] += `M${n1(x + 0.6)} ${n1(y + 0.6)}h${n1(bw - 1.2)}v${n1(bh - 1.2)}h${n1(-(bw - 1.2))}z`;
    }
  }
  const ls = [36, 42, 30];
  groups.forEach((d, i) => {
    out += `<path d="${d}" fill="${hex(h + i * 3, 55, ls[i]! + r.uniform(-3, 3))}"/>`;
  });
  return out;
}

function nightSky(r: Rng): string {
  const h = r.uniform(225, 245);
  let out = `<defs><linearGradient id="bgn" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${hex(h, 55, 7)}"/><stop offset="1" stop-color="${hex(h - 10, 45, r.uniform(18, 26))}"/></linearGradient></defs><rect width="${W}" height="${W}" fill="url(#bgn)"/>`;
  for (const [rad, n, col] of [
    [0.35, 30, '#cfd6ff'],
    [0.6, 12, '#ffffff'],
  ] as const) {
    let d = '';
    for (let i = 0; i < n; i++) {
      const x = r.uniform(0, W);
      const y = r.uniform(0, W);
      d += `M${n1(x - rad)} ${n1(y)}a${rad} ${rad} 0 1 0 ${2 * rad} 0a${rad} ${rad} 0 1 0 ${-2 * rad} 0z`;
    }
    out += `<path d="${d}" fill="${col}"/>`;
  }
  if (r.chance(0.35)) {
    const x = r.uniform(6, W - 6);
    const y = r.uniform(5, 18);
    const rad = r.uniform(3, 4.5);
    out += `<path d="M${n1(x)} ${n1(y - rad)}a${n1(rad)} ${n1(rad)} 0 1 0 0.01 0z" fill="#f4f1d0"/><circle cx="${n1(x + rad * 0.5)}" cy="${n1(y - rad * 0.3)}" r="${n1(rad)}" fill="${hex(h, 55, 9)}"/>`;
  }
  return out;
}

function wood(r: Rng): string {
  const h = r.uniform(22, 32);
  const l = r.uniform(36, 46);
  let out = `<rect width="${W}" height="${W}" fill="${hex(h, 50, l)}"/>`;
  const pw = r.uniform(13, 18);
  const ox = r.uniform(0, pw);
  let seams = '';
  for (let x = -ox; x < W; x += pw) seams += `M${n1(x)} 0V${W}`;
  for (const [dl, n] of [
    [-9, 10],
    [7, 7],
  ] as const) {
    let d = '';
    for (let i = 0; i < n; i++) {
      const x = r.uniform(0, W);
      const a = r.uniform(0.6, 1.6);
      d += `M${n1(x)} -2`;
      for (let y = -2; y < W + 2; y += 12) d += `q${n1(r.chance(0.5) ? a : -a)} 6 0 12`;
    }
    out += `<path d="${d}" stroke="${hex(h, 50, l + dl)}" stroke-width="0.8" fill="none"/>`;
  }
  out += `<path d="${seams}" stroke="${hex(h, 45, l - 20)}" stroke-width="1.2"/>`;
  return out;
}

function tiles(r: Rng): string {
  const ts = r.uniform(11, 15);
  const h = r.uniform(195, 215);
  const grout = hex(0, 0, r.uniform(62, 70));
  let out = `<rect width="${W}" height="${W}" fill="${grout}"/>`;
  const ox = r.uniform(0, ts);
  const oy = r.uniform(0, ts);
  let a = '';
  let b = '';
  let i = 0;
  for (let y = -oy; y < W; y += ts, i++) {
    let j = 0;
    for (let x = -ox; x < W; x += ts, j++) {
      const d = `M${n1(x + 0.6)} ${n1(y + 0.6)}h${n1(ts - 1.2)}v${n1(ts - 1.2)}h${n1(-(ts - 1.2))}z`;
      if ((i + j) % 2 === 0) a += d;
      else b += d;
    }
  }
  out += `<path d="${a}" fill="${hex(h, 45, 80)}"/><path d="${b}" fill="${hex(h, 20, 95)}"/>`;
  return out;
}

const DRAW: Record<string, (r: Rng) => string> = {
  grass,
  sand,
  water,
  snow,
  brick,
  night_sky: nightSky,
  wood,
  tiles,
};

/** SVG elements drawing the named background over the whole 64x64 world frame. */
export function backgroundSvg(name: string, seed: number): string {
  const draw = DRAW[name];
  if (!draw) throw new Error(`ShapeWorld: no drawing for background ${name}`);
  return draw(createRng('background', name, seed));
}

export const DRAWN_BACKGROUNDS: readonly string[] = Object.keys(DRAW);
