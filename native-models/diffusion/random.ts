// Seeded Gaussian noise for diffusion: deterministic on every platform that has IEEE doubles.
//
// Generator: xoshiro128** (Blackman & Vigna), 32-bit state words, seeded from the seed through
// splitmix32 so that nearby seeds give unrelated streams. Uniforms use 53 bits (two outputs);
// normals come from the Box-Muller transform, both values of each pair used (cosine first, then
// sine). The stream for a seed is fixed: changing anything here changes every generated image, so
// the test in test/unit/diffusion/random.test.ts pins the first values.
//
// This is NOT torch.randn: the same seed gives different noise than diffusers on PyTorch.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1), 53 bits. */
  uniform(): number;
  /** One standard normal deviate. */
  normal(): number;
  /** `length` standard normal deviates as float32. */
  randn(length: number): Float32Array;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Xoshiro128 implements Rng {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    this.seed = seed;
    // Both halves of the seed feed the state (seeds up to 2^53 - 1 are distinct).
    const st = { s: (seed % 0x100000000) ^ Math.imul(Math.floor(seed / 0x100000000), 0x27d4eb2d) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit output (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  randn(length: number): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.normal();
    return out;
  }
}

export function createRng(seed: number): Rng {
  return new Xoshiro128(seed);
}
