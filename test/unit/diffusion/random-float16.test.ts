import { describe, expect, it } from 'vitest';
import { createRng, Xoshiro128 } from '../../../native-models/diffusion/random.ts';
import { float16BitsToFloat32, float32ToFloat16Bits, fromFloat16, toFloat16 } from '../../../native-models/diffusion/float16.ts';

describe('seeded RNG', () => {
  it('is pinned: the stream for a seed never changes (it fixes every generated image)', () => {
    const r = new Xoshiro128(42);
    expect(Array.from({ length: 4 }, () => r.nextUint32())).toEqual([2837322924, 544945897, 479756282, 3500138142]);
    expect(Array.from(createRng(42).randn(4))).toEqual([1.1226592063903809, 0.9491474628448486, 0.4041278660297394, 0.03873744234442711]);
  });

  it('gives standard normals and distinct streams per seed', () => {
    const x = createRng(1).randn(20000);
    let m = 0;
    let v = 0;
    for (const a of x) m += a / x.length;
    for (const a of x) v += (a - m) ** 2 / x.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.04);
    expect(createRng(1).randn(8)).not.toEqual(createRng(2).randn(8));
    expect(createRng(2 ** 40).randn(8)).not.toEqual(createRng(0).randn(8));
    expect(() => createRng(-1)).toThrow(/seed/);
    expect(() => createRng(1.5)).toThrow(/seed/);
  });
});

describe('float16', () => {
  it('rounds float32 to nearest half, ties to even, as numpy does', () => {
    const cases: [number, number][] = [
      [0.1, 0x2e66], [1 / 3, 0x3555], [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [1e-8, 0], [-2.5, 0xc100], [1.5 * 2 ** -24, 0x0002], [1, 0x3c00], [-0, 0x8000],
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [1e10, 0x7c00],
    ];
    for (const [v, h] of cases) expect(float32ToFloat16Bits(v), String(v)).toBe(h);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
  });

  it('round-trips every half exactly and picks the nearest half for random floats', () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = float16BitsToFloat32(h);
      if (Number.isNaN(f)) continue;
      expect(float32ToFloat16Bits(f)).toBe(h);
    }
    const rng = createRng(5);
    for (let i = 0; i < 5000; i++) {
      const f = Math.fround(rng.normal() * 10 ** Math.floor(rng.uniform() * 10 - 5));
      const h = float32ToFloat16Bits(f);
      const err = Math.abs(float16BitsToFloat32(h) - f);
      for (const n of [h - 1, h + 1]) if ((n & 0x7fff) < 0x7c00 && (n & 0x8000) === (h & 0x8000)) expect(err).toBeLessThanOrEqual(Math.abs(float16BitsToFloat32(n) - f));
    }
    const a = Float32Array.from([0.5, -1.25, 3.140625]);
    expect(fromFloat16(toFloat16(a))).toEqual(a);
  });
});
