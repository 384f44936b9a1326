// Finding the image input, the logits and the final linear layer (the "head") of an exported
// image classifier, so that its features (the head's input) can be read out and the head retrained.
//
// Supported heads, as exporters write them:
//  - Gemm(A = features, B = weight initialiser, C = bias initialiser or absent), transA = 0,
//    alpha = beta = 1; transB = 1 (torch nn.Linear: B is [classes, features], "out_in") or
//    transB = 0 (B is [features, classes], "in_out");
//  - MatMul(features, weight initialiser [features, classes]) optionally followed by
//    Add(with a bias initialiser, either operand order): torch's Linear on a 3-D tensor, dynamo exports.
// Between the head and the graph output only shape ops (Identity, Flatten, Reshape, Squeeze,
// Unsqueeze, Dropout) and at most one Softmax/LogSoftmax may sit. When there is a softmax, the head's
// output is exposed instead (pre-softmax logits), so logits_are is 'logits' for every model found here.
//
// Input: exactly one graph input that is not an initialiser (old exporters list initialisers as
// inputs too), float32 (or float16: a half-precision export), rank 4, 3 channels (or dynamic). A batch dim fixed to k is accepted and
// recorded (fixedBatch): the runner then feeds batches of exactly k, padding the last one.
import { readOnnxModel, summarizeGraph, type Dim, type GraphSummary, type NodeInfo, type TensorInfo } from '../onnx/index.ts';

export interface ClassifierHead {
  kind: 'gemm' | 'matmul_add';
  weight: string;
  bias: string | null;
  weight_layout: 'out_in' | 'in_out';
  num_classes: number;
  feature_dim: number;
  /** name (or op#index) of the Gemm / MatMul node */
  node: string;
}

export interface ClassifierInspection {
  file: string;
  input: { name: string; shape: Dim[]; dtype: 'float32' | 'float16' };
  /** Batch dim fixed in the graph (usually 1), or null when dynamic. */
  fixedBatch: number | null;
  /** Fixed [height, width] of the input, or null when either is dynamic. */
  imageSize: [number, number] | null;
  /** The graph output the head was found behind. */
  graphOutput: string;
  /** The tensor to read scores from (the head's output when the graph ends in a softmax). */
  logits: string;
  logitsAre: 'logits' | 'probabilities';
  /** The head's input tensor. */
  features: string;
  head: ClassifierHead;
  /** Tensors that are not graph outputs yet and must be added for features/logits to be read. */
  addOutputs: string[];
  notes: string[];
}

export class ClassifierInspectError extends Error {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ClassifierInspectError';
    this.file = file;
    this.reason = reason;
  }
}

const SHAPE_OPS = new Set(['Identity', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Dropout']);
const SOFTMAX_OPS = new Set(['Softmax', 'LogSoftmax']);

const fmtShape = (s: Dim[] | null) => (s ? `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[unknown rank]');
const fmtTensor = (t: TensorInfo) => `${JSON.stringify(t.name)} ${t.dtype}${fmtShape(t.shape)}`;
const nodeName = (n: NodeInfo) => n.name || `${n.opType}#${n.index}`;
const numAttr = (n: NodeInfo, key: string, dflt: number): number => {
  const v = n.attributes[key];
  return typeof v === 'number' ? v : dflt;
};

type HeadResult = { head: ClassifierHead; features: string; headOutput: string } | { why: string };

function headAt(node: NodeInfo, g: GraphSummary): HeadResult {
  const init = (name: string | undefined) => (name ? g.initializers.get(name) : undefined);
  const isFloat = (t: { elemType: number }) => t.elemType === 1 || t.elemType === 10 || t.elemType === 11 || t.elemType === 16;
  if (node.opType === 'Gemm') {
    const [a, b, c] = node.inputs;
    const w = init(b);
    if (!w) return { why: `Gemm ${nodeName(node)}: its weight B (${JSON.stringify(b)}) is not an initialiser` };
    if (w.dims.length !== 2 || !isFloat(w)) return { why: `Gemm ${nodeName(node)}: weight ${JSON.stringify(b)} is ${w.dtype}[${w.dims.join(', ')}], not a 2-D float matrix` };
    if (numAttr(node, 'transA', 0) !== 0) return { why: `Gemm ${nodeName(node)} has transA=1 (features transposed): not supported` };
    const alpha = numAttr(node, 'alpha', 1);
    const beta = numAttr(node, 'beta', 1);
    if (alpha !== 1 || (c && beta !== 1)) return { why: `Gemm ${nodeName(node)} has alpha=${alpha}, beta=${beta}: only 1 is supported` };
    const transB = numAttr(node, 'transB', 0);
    const [C, D] = transB === 1 ? [w.dims[0], w.dims[1]] : [w.dims[1], w.dims[0]];
    let bias: string | null = null;
    if (c) {
      const bt = init(c);
      if (!bt) return { why: `Gemm ${nodeName(node)}: its bias C (${JSON.stringify(c)}) is computed, not an initialiser` };
      if (bt.dims.reduce((x, y) => x * y, 1) !== C) return { why: `Gemm ${nodeName(node)}: bias ${JSON.stringify(c)} has shape [${bt.dims.join(', ')}], expected ${C} values` };
      bias = c;
    }
    return {
      head: { kind: 'gemm', weight: b, bias, weight_layout: transB === 1 ? 'out_in' : 'in_out', num_classes: C, feature_dim: D, node: nodeName(node) },
      features: a,
      headOutput: node.outputs[0],
    };
  }
  let add: NodeInfo | null = null;
  let mm: NodeInfo | null = null;
  let bias: string | null = null;
  if (node.opType === 'Add') {
    const [x, y] = node.inputs;
    const [biasName, other] = init(x) ? [x, y] : init(y) ? [y, x] : [null, null];
    if (!biasName || !other) return { why: `Add ${nodeName(node)} has no initialiser operand (not a bias)` };
    const p = g.producer_of.get(other);
    if (p === undefined || g.nodes[p].opType !== 'MatMul') return { why: `Add ${nodeName(node)} does not follow a MatMul` };
    add = node;
    mm = g.nodes[p];
    bias = biasName;
  } else if (node.opType === 'MatMul') {
    mm = node;
  } else {
    return { why: `the output comes from ${node.opType} ${nodeName(node)}` };
  }
  const [a, b] = mm.inputs;
  const w = init(b);
  if (!w) return { why: `MatMul ${nodeName(mm)}: its second operand (${JSON.stringify(b)}) is not an initialiser` };
  if (w.dims.length !== 2 || !isFloat(w)) return { why: `MatMul ${nodeName(mm)}: weight ${JSON.stringify(b)} is ${w.dtype}[${w.dims.join(', ')}], not a 2-D float matrix` };
  const [D, C] = w.dims;
  if (bias !== null) {
    const bt = init(bias)!;
    if (bt.dims.reduce((x, y) => x * y, 1) !== C) return { why: `Add ${nodeName(add!)}: bias ${JSON.stringify(bias)} has shape [${bt.dims.join(', ')}], expected ${C} values` };
  }
  return {
    head: { kind: 'matmul_add', weight: b, bias, weight_layout: 'in_out', num_classes: C, feature_dim: D, node: nodeName(mm) },
    features: a,
    headOutput: (add ?? mm).outputs[0],
  };
}

/** Inspects an already decoded graph; `file` names the model in errors. */
export function inspectClassifierGraph(g: GraphSummary, file: string): ClassifierInspection {
  const fail = (reason: string): never => {
    throw new ClassifierInspectError(file, reason);
  };
  const notes: string[] = [];
  if (g.inputs.length !== 1) {
    fail(`a classifier must have exactly one image input; found ${g.inputs.length}: ${g.inputs.map(fmtTensor).join(', ') || '(none)'}`);
  }
  if (g.initializerInputs.length) notes.push(`${g.initializerInputs.length} initialisers are also listed as graph inputs (old exporter); ignored`);
  const input = g.inputs[0];
  if (input.elemType !== 1 && input.elemType !== 10) fail(`the input ${fmtTensor(input)} must be float32 or float16`);
  if (!input.shape) fail(`the input ${JSON.stringify(input.name)} has no shape in the graph; expected [N, 3, H, W]`);
  const shape = input.shape!;
  if (shape.length !== 4) fail(`the input ${fmtTensor(input)} must be rank 4 [N, 3, H, W], found rank ${shape.length}`);
  if (typeof shape[1] === 'number' && shape[1] !== 3) fail(`the input ${fmtTensor(input)} has ${shape[1]} channels; FactorLab's preprocessing makes RGB (3 channels, NCHW)`);
  const fixedBatch = typeof shape[0] === 'number' ? shape[0] : null;
  if (fixedBatch !== null) notes.push(`batch size fixed to ${fixedBatch} in the graph: runs use batches of exactly ${fixedBatch}`);
  const imageSize: [number, number] | null = typeof shape[2] === 'number' && typeof shape[3] === 'number' ? [shape[2], shape[3]] : null;

  const reasons: string[] = [];
  for (const out of g.outputs) {
    let tensor = out.name;
    let softmax: NodeInfo | null = null;
    for (let step = 0; step < 16; step++) {
      const p = g.producer_of.get(tensor);
      if (p === undefined) {
        reasons.push(`${JSON.stringify(out.name)}: reached ${JSON.stringify(tensor)}, which no node produces`);
        break;
      }
      const node = g.nodes[p];
      if (SHAPE_OPS.has(node.opType)) {
        tensor = node.inputs[0];
        continue;
      }
      if (SOFTMAX_OPS.has(node.opType) && !softmax) {
        softmax = node;
        tensor = node.inputs[0];
        continue;
      }
      const r = headAt(node, g);
      if ('why' in r) {
        reasons.push(`${JSON.stringify(out.name)}: ${r.why}`);
        break;
      }
      const graphOutputs = new Set(g.outputs.map((o) => o.name));
      const logits = softmax ? r.headOutput : out.name;
      if (softmax) notes.push(`the graph ends in ${softmax.opType}; the pre-softmax tensor ${JSON.stringify(r.headOutput)} is exposed as the logits`);
      if (g.outputs.length > 1) notes.push(`the graph has ${g.outputs.length} outputs; the head was found behind ${JSON.stringify(out.name)}`);
      if (r.head.num_classes === 1) notes.push('the head has a single output (binary classifier with a sigmoid?): softmax over one class is always 1');
      const addOutputs = [r.features, logits].filter((t, i, all) => !graphOutputs.has(t) && all.indexOf(t) === i);
      return {
        file,
        input: { name: input.name, shape, dtype: input.elemType === 10 ? 'float16' : 'float32' },
        fixedBatch,
        imageSize,
        graphOutput: out.name,
        logits,
        logitsAre: 'logits',
        features: r.features,
        head: r.head,
        addOutputs,
        notes,
      };
    }
  }
  return fail(`no final linear layer (Gemm, or MatMul [+ Add], with initialiser weights) found before the graph outputs: ${reasons.join('; ') || 'the graph has no outputs'}`);
}

/** Reads `path` and finds its image input, logits and head. Throws ClassifierInspectError or OnnxFormatError. */
export async function inspectClassifierOnnx(path: string): Promise<ClassifierInspection> {
  const { model } = await readOnnxModel(path);
  return inspectClassifierGraph(summarizeGraph(model), path);
}

