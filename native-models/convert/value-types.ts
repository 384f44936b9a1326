// Element types and value ranges of a graph's intermediate values, as onnxruntime sees them: every
// node output is added as a graph output (typeless; onnxruntime infers the type on load), so types
// come from the session's outputMetadata without running anything, and with feeds one run per group
// of outputs gives each float value's largest magnitude.
import * as ort from 'onnxruntime-node';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spliceGraphOutputs, type LoadedOnnx } from '../onnx/model.ts';
import type { GraphProto } from '../onnx/proto.ts';
import { FLOAT } from './float16-graph.ts';

const ORT_TYPE_NUMBER: Readonly<Record<string, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};

export interface ValueTypes {
  types: Map<string, number>;
  /** max |value| per float value (only when feeds were given). */
  ranges: Map<string, number> | null;
}

function hasExternalData(graph: GraphProto): boolean {
  return graph.initializer.some((t) => t.dataLocation === 1);
}

/** Types (and, with `feeds`, ranges) of every node output of `src`. Models with external data are
 * written next to their data (a hidden temporary file in the model's folder) to load. */
export async function inspectValues(src: LoadedOnnx, feeds: Record<string, ort.Tensor> | null, outputsPerRun = 96): Promise<ValueTypes> {
  const graph = src.model.graph as GraphProto;
  const existing = new Set(graph.output.map((o) => o.name));
  const names = [...new Set(graph.node.flatMap((n) => n.output).filter((o) => o && !existing.has(o)))];
  const chunks = spliceGraphOutputs(src.bytes, names.map((name) => ({ name })), src.file);
  let session: ort.InferenceSession;
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], logSeverityLevel: 3, graphOptimizationLevel: 'disabled' };
  if (hasExternalData(graph)) {
    const file = join(dirname(src.file), `.${Date.now()}-${process.pid}.inspect.onnx`);
    await writeFile(file, chunks);
    try {
      session = await ort.InferenceSession.create(file, options);
    } finally {
      await rm(file, { force: true });
    }
  } else {
    session = await ort.InferenceSession.create(Buffer.concat(chunks), options);
  }
  try {
    const types = new Map<string, number>();
    for (const m of session.outputMetadata) if (m.isTensor) types.set(m.name, ORT_TYPE_NUMBER[m.type] ?? 0);
    if (!feeds) return { types, ranges: null };
    const floats = [...types].filter(([, t]) => t === FLOAT).map(([n]) => n);
    const ranges = new Map<string, number>();
    for (let s = 0; s < floats.length; s += outputsPerRun) {
      const fetch = floats.slice(s, s + outputsPerRun);
      const res = await session.run(feeds, fetch);
      for (const name of fetch) {
        const t = res[name]!;
        const d = t.data as Float32Array;
        let m = 0;
        for (let i = 0; i < d.length; i++) {
          const a = Math.abs(d[i]!);
          if (a > m || Number.isNaN(a)) m = Number.isNaN(a) ? Infinity : a;
        }
        ranges.set(name, m);
        t.dispose();
      }
    }
    return { types, ranges };
  } finally {
    await session.release();
  }
}
