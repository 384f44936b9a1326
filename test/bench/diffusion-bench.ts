// Text-to-image bench (a case of run-bench.ts, `npm run bench -- --case diffusion`): the overhead of
// the TypeScript pipeline around onnxruntime. The ShapeWorld text-to-image package (SD layout),
// B images of one prompt, S DDIM steps with classifier-free guidance, on the CPU. Measured in the
// same run:
//  - baseline: the model calls alone, through the pipeline's own session wrappers (text encoder on
//    the prompt and the empty prompt, S UNet calls at batch 2B, one VAE decode at batch B);
//  - the whole pipeline (tokenizer, seeded latents, scheduler, guidance, NaN checks, PNG encoding).
// Target (stated, not asserted): pipeline time <= 1.10 x the model calls.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiffusionPipeline } from '../../native-models/diffusion/index.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';

async function best(f: () => Promise<unknown>, reps: number): Promise<number> {
  await f();
  let b = Infinity;
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

export async function benchDiffusion(root: string, o: { images: number; steps: number } = { images: 8, steps: 20 }): Promise<void> {
  const pipe = await DiffusionPipeline.load(shapeworldPackageDir('diffusion'), { provider: 'cpu' });
  try {
    const B = o.images;
    const S = o.steps;
    const prompt = 'a photo of a fish under a night sky';
    const { width, height } = pipe.defaultSize();
    const C = pipe.latentChannels;
    const lh = height / pipe.vaeScaleFactor;
    const lw = width / pipe.vaeScaleFactor;
    const models = async () => {
      const enc = await pipe.encodeText(pipe.tokenize([prompt, '']));
      const rowSize = enc.data.length / 2;
      const hidden = new Float32Array(2 * B * rowSize);
      for (let k = 0; k < 2 * B; k++) hidden.set(enc.data.subarray((k < B ? 0 : 1) * rowSize, (k < B ? 1 : 2) * rowSize), k * rowSize);
      const latents = new Float32Array(2 * B * C * lh * lw).fill(0.1);
      for (let i = 0; i < S; i++) await pipe.runUnet(latents, [2 * B, C, lh, lw], 999 - i * 50, hidden, enc.hidden);
      await pipe.decode(latents.subarray(0, B * C * lh * lw), [B, C, lh, lw]);
    };
    const whole = () => pipe.generate({ prompts: [prompt], n: B, steps: S, guidance: 5, seed: 0 });
    const baseMs = await best(models, 2);
    const pipeMs = await best(whole, 2);
    const result = {
      case: 'diffusion',
      model: 'ShapeWorld text-to-image (SD ONNX layout)',
      provider: pipe.provider,
      images: B,
      steps: S,
      size: [width, height],
      modelCallsMs: Math.round(baseMs),
      pipelineMs: Math.round(pipeMs),
      ratio: pipeMs / baseMs,
      unetStepsPerSecond: S / (baseMs / 1000),
      imagesPerSecond: B / (pipeMs / 1000),
      target: 'pipeline <= 1.10 x model calls',
    };
    console.log(
      `diffusion (${B} images, ${S} steps, CFG, ${pipe.provider}): pipeline ${result.pipelineMs} ms vs model calls ${result.modelCallsMs} ms = ${result.ratio.toFixed(3)}x ` +
        `(target <= 1.10x); UNet ${result.unetStepsPerSecond.toFixed(1)} steps/s at batch ${2 * B}; ${result.imagesPerSecond.toFixed(2)} images/s`,
    );
    mkdirSync(join(root, 'test-results'), { recursive: true });
    writeFileSync(join(root, 'test-results', 'bench-diffusion.json'), JSON.stringify(result, null, 2));
  } finally {
    await pipe.release();
  }
}
