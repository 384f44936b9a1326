/** Items/s over a sliding window and the ETA it implies; null until two samples a moment apart exist. */
export class ProgressRate {
  private samples: { t: number; done: number }[] = [];
  private readonly windowMs: number;

  constructor(windowMs = 10_000) {
    this.windowMs = windowMs;
  }

  add(done: number, now = Date.now()): void {
    this.samples.push({ t: now, done });
    while (this.samples.length > 2 && now - this.samples[1].t > this.windowMs) this.samples.shift();
  }

  rate(): number | null {
    if (this.samples.length < 2) return null;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (b.t - a.t) / 1000;
    if (dt < 0.2 || b.done <= a.done) return null;
    return (b.done - a.done) / dt;
  }

  eta(done: number, total: number): number | null {
    const r = this.rate();
    if (r === null || total <= 0) return null;
    return Math.max(0, (total - done) / r);
  }
}
