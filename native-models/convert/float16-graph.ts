// fp32 -> fp16 rewrite of an ONNX graph, keeping the graph's inputs and outputs float32 (what the
// app feeds and reads does not change) and keeping in float32 whatever fp16 would break:
//
// - Nodes whose float values are not derived from a graph input (shape arithmetic, positions,
//   masks built from constants): they stay exact in float32, and onnxruntime folds most of them.
// - Ops that are unsafe or not typed for fp16 (BLOCKED_OPS), ops of other domains, and nodes with
//   subgraphs (If / Loop / Scan): their bodies read outer values by name, so those stay float32.
// - Nodes the caller names (e.g. a classifier's head, so that it can still be patched exactly).
// - Nodes whose values exceeded `rangeLimit` on a calibration run (fp16 tops out at 65504).
//
// Every float32 value is available under its own name in the precision of its producer; a consumer
// wanting the other precision gets one shared Cast (or, for an initialiser, a converted copy).
// Graph outputs and values read by subgraphs keep their name in float32: an fp16 producer writes
// `<name>_fp16` and a Cast makes `<name>`. Cast nodes inside fp16 regions that produced float32
// now produce float16; Constant / ConstantOfShape values are converted with them.
import { onnx, toNumber, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import { tensorToFloat32 } from '../onnx/model.ts';
import { toFloat16 } from '../diffusion/float16.ts';

export const FLOAT = 1;
export const FLOAT16 = 10;

/** Ops kept in float32 whatever their inputs: random sources, index/box ops whose float inputs are
 * coordinates or counts, and Range (sizes). */
export const BLOCKED_OPS: ReadonlySet<string> = new Set([
  'Range', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'EyeLike',
  'NonMaxSuppression', 'RoiAlign', 'MaxRoiPool', 'Bernoulli',
]);

/** Inputs that the ONNX spec types as float32 only (Resize's roi and scales, Upsample's scales). */
const FLOAT32_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2], Upsample: [1] };

/** Ops that read only their inputs' shapes: they take either precision as is. */
const SHAPE_ONLY_OPS: ReadonlySet<string> = new Set(['Shape', 'Size']);

export interface Float16Options {
  /** Node indices to keep in float32, with the reason to report. */
  keepNodes?: ReadonlyMap<number, string>;
  /** max |value| per float value name, from a calibration run; nodes touching a larger one stay float32. */
  ranges?: ReadonlyMap<string, number>;
  rangeLimit?: number;
  /** Folder of the model, to read initialisers stored as external data. */
  baseDir?: string;
}

export interface Float16Report {
  fp16Nodes: number;
  fp32Nodes: number;
  /** Why float32 nodes that compute on the graph's inputs stayed float32: reason -> count. */
  keptFp32: Record<string, number>;
  castsAdded: number;
  initializersConverted: number;
  /** Bytes of initialisers before and after. */
  weightBytesBefore: number;
  weightBytesAfter: number;
}

export class Float16ConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Float16ConversionError';
  }
}

const nameOf = (x: { name?: string | null }): string => x.name ?? '';

function subgraphsOf(n: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of n.attribute) {
    if (a.g) out.push(a.g as GraphProto);
    for (const g of a.graphs ?? []) out.push(g as GraphProto);
  }
  return out;
}

/** Names a subgraph reads from enclosing scopes (inputs of its nodes that it does not define). */
function outerReferences(g: GraphProto, into: Set<string>): void {
  const defined = new Set<string>([...g.input.map(nameOf), ...g.initializer.map(nameOf)]);
  for (const n of g.node) for (const o of n.output ?? []) defined.add(o);
  for (const n of g.node) {
    for (const i of n.input ?? []) if (i && !defined.has(i)) into.add(i);
    for (const sg of subgraphsOf(n as NodeProto)) {
      const inner = new Set<string>();
      outerReferences(sg, inner);
      for (const i of inner) if (!defined.has(i)) into.add(i);
    }
  }
  for (const o of g.output.map(nameOf)) if (!defined.has(o)) into.add(o);
}

function tensorBytes(t: TensorProto): number {
  const count = t.dims.map(toNumber).reduce((a, b) => a * b, 1);
  const width = t.dataType === FLOAT ? 4 : t.dataType === FLOAT16 ? 2 : t.dataType === 11 || t.dataType === 7 ? 8 : t.dataType === 6 ? 4 : 1;
  return count * width;
}

function toFloat16Tensor(t: TensorProto, name: string, baseDir: string | undefined): TensorProto {
  const values = tensorToFloat32(t, baseDir);
  const half = toFloat16(values);
  return onnx.TensorProto.create({
    name,
    dims: t.dims,
    dataType: FLOAT16,
    rawData: new Uint8Array(half.buffer, half.byteOffset, half.byteLength),
    docString: t.docString,
  });
}

function intAttr(name: string, value: number): AttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
}

function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.TENSOR, t });
}

/**
 * Rewrites `model` in place. `valueTypes` holds the element type of every value the nodes produce
 * (as onnxruntime infers them); graph inputs and initialisers are read from the model itself.
 */
export function convertGraphToFloat16(model: ModelProto, valueTypes: ReadonlyMap<string, number>, options: Float16Options = {}): Float16Report {
  const graph = model.graph as GraphProto;
  const limit = options.rangeLimit ?? 16384;
  const nodes = graph.node as NodeProto[];
  const inits = new Map<string, TensorProto>(graph.initializer.map((t) => [nameOf(t), t as TensorProto]));
  const weightBytesBefore = [...inits.values()].reduce((s, t) => s + tensorBytes(t), 0);

  const typeOf = (name: string): number => {
    const init = inits.get(name);
    if (init) return init.dataType;
    const input = graph.input.find((i) => i.name === name);
    if (input) return input.type?.tensorType?.elemType ?? 0;
    return valueTypes.get(name) ?? 0;
  };
  const isFloat = (name: string) => name !== '' && typeOf(name) === FLOAT;

  // values derived from the graph's inputs (through data, not through Shape/Size)
  const graphInputs = graph.input.map(nameOf).filter((n) => !inits.has(n));
  const act = new Set<string>(graphInputs);
  const subgraphRefs = new Set<string>();
  const nodeRefs: Set<string>[] = nodes.map((n) => {
    const refs = new Set<string>();
    for (const sg of subgraphsOf(n)) outerReferences(sg, refs);
    for (const r of refs) subgraphRefs.add(r);
    return refs;
  });
  nodes.forEach((n, i) => {
    if (SHAPE_ONLY_OPS.has(n.opType)) return;
    if (n.input.some((x) => act.has(x)) || [...nodeRefs[i]!].some((x) => act.has(x))) for (const o of n.output) if (o) act.add(o);
  });

  // precision per node
  const keptFp32: Record<string, number> = {};
  const fp16 = nodes.map((n, i) => {
    const floatsIn = n.input.filter(isFloat);
    const floatsOut = n.output.filter(isFloat);
    if (SHAPE_ONLY_OPS.has(n.opType)) return false;
    const computesOnInputs = floatsIn.some((x) => act.has(x)) || floatsOut.some((x) => act.has(x));
    if (!computesOnInputs) return false;
    let reason: string | null = null;
    if (n.domain !== '' && n.domain !== 'ai.onnx') reason = `op of domain ${n.domain}`;
    else if (nodeRefs[i]!.size > 0 || subgraphsOf(n).length > 0) reason = 'has a subgraph';
    else if (BLOCKED_OPS.has(n.opType)) reason = `${n.opType} is kept in float32`;
    else if (options.keepNodes?.has(i)) reason = options.keepNodes.get(i)!;
    else if (options.ranges) {
      const big = [...floatsIn, ...floatsOut].map((x) => options.ranges!.get(x) ?? 0).reduce((a, b) => Math.max(a, b), 0);
      if (big > limit) reason = `values beyond ±${limit} on the calibration input`;
    }
    if (reason !== null) {
      keptFp32[reason] = (keptFp32[reason] ?? 0) + 1;
      return false;
    }
    return true;
  });

  // names in use, for fresh ones
  const used = new Set<string>([...inits.keys(), ...graph.input.map(nameOf), ...graph.output.map(nameOf)]);
  for (const n of nodes) {
    for (const x of [...n.input, ...n.output]) used.add(x);
    if (n.name) used.add(n.name);
  }
  for (const r of subgraphRefs) used.add(r);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };

  const pinned = new Set<string>([...graph.output.map(nameOf), ...subgraphRefs]);
  type Variants = { 16?: string; 32?: string };
  const variants = new Map<string, Variants>();
  for (const name of graphInputs) if (isFloat(name)) variants.set(name, { 32: name });
  for (const [name, t] of inits) if (t.dataType === FLOAT) variants.set(name, { 32: name });

  const out: NodeProto[] = [];
  const newInits: TensorProto[] = [];
  let castsAdded = 0;
  let initializersConverted = 0;
  const cast = (from: string, to: string, elemType: number): NodeProto => {
    castsAdded++;
    return onnx.NodeProto.create({ name: fresh(`${to}_cast`), opType: 'Cast', input: [from], output: [to], attribute: [intAttr('to', elemType)] });
  };
  const variant = (name: string, want: 16 | 32): string => {
    const v = variants.get(name);
    if (!v) return name;
    const have = v[want];
    if (have) return have;
    const init = inits.get(name);
    if (want === 16 && init && v[32] === name) {
      const copy = toFloat16Tensor(init, fresh(`${name}_fp16`), options.baseDir);
      newInits.push(copy);
      initializersConverted++;
      v[16] = copy.name;
      return copy.name;
    }
    const other = want === 16 ? v[32]! : v[16]!;
    const to = fresh(`${name}_${want === 16 ? 'fp16' : 'fp32'}`);
    out.push(cast(other, to, want === 16 ? FLOAT16 : FLOAT));
    v[want] = to;
    return to;
  };

  nodes.forEach((n, i) => {
    const half = fp16[i]!;
    const keep32 = FLOAT32_INPUTS[n.opType] ?? [];
    if (SHAPE_ONLY_OPS.has(n.opType)) {
      n.input = n.input.map((x) => {
        const v = variants.get(x);
        return v ? (v[32] ?? v[16]!) : x;
      });
    } else {
      n.input = n.input.map((x, k) => (isFloat(x) ? variant(x, half && !keep32.includes(k) ? 16 : 32) : x));
    }
    const after: NodeProto[] = [];
    if (half) {
      for (const a of n.attribute) {
        if (n.opType === 'Cast' && a.name === 'to' && toNumber(a.i) === FLOAT) a.i = FLOAT16;
        if ((n.opType === 'Constant' || n.opType === 'ConstantOfShape') && a.name === 'value' && a.t && a.t.dataType === FLOAT) a.t = toFloat16Tensor(a.t as TensorProto, a.t.name ?? '', options.baseDir);
      }
      if (n.opType === 'Constant') {
        n.attribute = n.attribute.map((a) => {
          if (a.name === 'value_float') return tensorAttr('value', onnx.TensorProto.create({ dataType: FLOAT16, dims: [], rawData: new Uint8Array(toFloat16(Float32Array.of(a.f ?? 0)).buffer) }));
          if (a.name === 'value_floats') return tensorAttr('value', onnx.TensorProto.create({ dataType: FLOAT16, dims: [(a.floats ?? []).length], rawData: new Uint8Array(toFloat16(Float32Array.from(a.floats ?? [])).buffer) }));
          return a;
        });
      }
      n.output = n.output.map((o) => {
        if (!isFloat(o)) return o;
        if (pinned.has(o)) {
          const h = fresh(`${o}_fp16`);
          after.push(cast(h, o, FLOAT));
          variants.set(o, { 16: h, 32: o });
          return h;
        }
        variants.set(o, { 16: o });
        return o;
      });
    } else {
      for (const o of n.output) if (isFloat(o)) variants.set(o, { 32: o });
    }
    out.push(n, ...after);
  });

  // initialisers: the converted copies in, float32 ones nobody reads any more out
  const read = new Set<string>([...graph.output.map(nameOf), ...subgraphRefs]);
  for (const n of out) for (const x of n.input) read.add(x);
  const keptInits = [...inits.values()].filter((t) => read.has(t.name));
  const dropped = new Set([...inits.keys()].filter((k) => !read.has(k)));
  graph.initializer = [...keptInits, ...newInits];
  graph.input = graph.input.filter((i) => !dropped.has(nameOf(i)));
  graph.node = out;

  // value_info: values now produced in fp16 under their own name
  for (const vi of graph.valueInfo) {
    const v = variants.get(nameOf(vi));
    if (v && v[16] === vi.name && vi.type?.tensorType) vi.type.tensorType.elemType = FLOAT16;
  }

  const fp16Nodes = fp16.filter(Boolean).length;
  return {
    fp16Nodes,
    fp32Nodes: nodes.length - fp16Nodes,
    keptFp32,
    castsAdded,
    initializersConverted,
    weightBytesBefore,
    weightBytesAfter: graph.initializer.reduce((s, t) => s + tensorBytes(t as TensorProto), 0),
  };
}
