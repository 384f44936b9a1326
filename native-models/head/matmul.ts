// Dense float32 kernels for the head trainer: plain typed-array loops, row-major, cache-blocked,
// with a 4x4 register-blocked micro-kernel (16 accumulators, 8 loads per 16 multiply-adds).
// JS numbers are float64, so each micro-kernel's partial sums are float64; they are added to a
// float32 output once per k-block.

const KB = 256; // k-block: a 4-row panel of A and of B is 4 KB each, in L1
const NB = 64; // rows of B per block: 64 x 256 floats = 64 KB, in L2

/**
 * out[m x n] = A[m x k] · B[n x k]ᵀ (+ bias[j] on every row). Both operands are row-major with the
 * shared dimension k contiguous, so every inner loop is two unit-stride streams.
 */
export function gemmABt(A: Float32Array, m: number, B: Float32Array, n: number, k: number, out: Float32Array, bias: Float32Array | null = null): Float32Array {
  if (A.length < m * k) throw new RangeError(`gemmABt: A has ${A.length} values, expected ${m}x${k}`);
  if (B.length < n * k) throw new RangeError(`gemmABt: B has ${B.length} values, expected ${n}x${k}`);
  if (out.length < m * n) throw new RangeError(`gemmABt: out has ${out.length} values, expected ${m}x${n}`);
  if (bias) for (let i = 0; i < m; i++) out.set(bias.subarray(0, n), i * n);
  else out.fill(0, 0, m * n);
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = Math.min(k, k0 + KB);
    for (let j0 = 0; j0 < n; j0 += NB) {
      const j1 = Math.min(n, j0 + NB);
      const j4 = Math.min(j1, n4);
      for (let i = 0; i < m4; i += 4) {
        const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        let j = j0;
        for (; j < j4; j += 4) {
          const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
          let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
          let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
          let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
          let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
          for (let p = k0; p < k1; p++) {
            const x0 = A[a0 + p], x1 = A[a1 + p], x2 = A[a2 + p], x3 = A[a3 + p];
            const y0 = B[b0 + p], y1 = B[b1 + p], y2 = B[b2 + p], y3 = B[b3 + p];
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
          }
          let o = i * n + j;
          out[o] += s00; out[o + 1] += s01; out[o + 2] += s02; out[o + 3] += s03; o += n;
          out[o] += s10; out[o + 1] += s11; out[o + 2] += s12; out[o + 3] += s13; o += n;
          out[o] += s20; out[o + 1] += s21; out[o + 2] += s22; out[o + 3] += s23; o += n;
          out[o] += s30; out[o + 1] += s31; out[o + 2] += s32; out[o + 3] += s33;
        }
        for (; j < j1; j++) {
          const b0 = j * k;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let p = k0; p < k1; p++) {
            const y = B[b0 + p];
            s0 += A[a0 + p] * y; s1 += A[a1 + p] * y; s2 += A[a2 + p] * y; s3 += A[a3 + p] * y;
          }
          out[i * n + j] += s0; out[(i + 1) * n + j] += s1; out[(i + 2) * n + j] += s2; out[(i + 3) * n + j] += s3;
        }
      }
      for (let i = m4; i < m; i++) {
        const a0 = i * k;
        for (let j = j0; j < j1; j++) {
          const b0 = j * k;
          let s = 0;
          for (let p = k0; p < k1; p++) s += A[a0 + p] * B[b0 + p];
          out[i * n + j] += s;
        }
      }
    }
  }
  return out;
}

/** out[cols x rows] = Aᵀ for A[rows x cols], in 32x32 tiles. */
export function transpose(A: Float32Array, rows: number, cols: number, out: Float32Array = new Float32Array(rows * cols)): Float32Array {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = A[src + c];
      }
    }
  }
  return out;
}
