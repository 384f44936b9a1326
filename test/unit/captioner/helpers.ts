// Small real ONNX graphs for the captioner tests, built in-process with the ONNX protobuf classes
// (no mocks): an "encoder" that slices the pixels into a [B, S, D] tensor, and a "decoder" that
// emits a scripted token sequence (row t of a [steps, V] table is the logits of position t).
import { writeFile } from 'node:fs/promises';
import { onnx } from '../../../native-models/onnx/index.ts';

type D = number | string;
const dim = (d: D) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
const tensorType = (elemType: number, dims: D[]) => ({ tensorType: { elemType, shape: { dim: dims.map(dim) } } });
const i64 = (name: string, values: number[]) => ({ name, dataType: 7, dims: [values.length], rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });

function model(name: string, graph: Record<string, unknown>): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'factorlab-test', opsetImport: [{ domain: '', version: 17 }], graph: { name, ...graph } })).finish();
}

/** pixel_values [B,3,H,W] -> last_hidden_state [B,3,width]: the first `width` pixels of each channel. */
export async function writeSliceEncoder(path: string, opts: { size: number; width: number }): Promise<void> {
  const bytes = model('slice_encoder', {
    node: [
      { opType: 'Reshape', input: ['pixel_values', 'shape'], output: ['flat'], name: 'reshape' },
      { opType: 'Slice', input: ['flat', 'starts', 'ends', 'axes'], output: ['last_hidden_state'], name: 'slice' },
    ],
    initializer: [i64('shape', [0, 3, -1]), i64('starts', [0]), i64('ends', [opts.width]), i64('axes', [2])],
    input: [{ name: 'pixel_values', type: tensorType(1, ['batch_size', 3, opts.size, opts.size]) }],
    output: [{ name: 'last_hidden_state', type: tensorType(1, ['batch_size', 3, opts.width]) }],
  });
  await writeFile(path, bytes);
}

/**
 * input_ids [B,T] int64, encoder_hidden_states [B,3,width] -> logits [B,T,V] where position t's
 * logits are 1 at script[t] and 0 elsewhere (whatever the inputs): greedy decoding emits `script`.
 */
export async function writeScriptDecoder(path: string, opts: { vocab: number; width: number; script: number[] }): Promise<void> {
  const { vocab: V, script } = opts;
  const table = new Float32Array(script.length * V);
  script.forEach((id, t) => (table[t * V + id] = 1));
  const bytes = model('script_decoder', {
    node: [
      { opType: 'Shape', input: ['input_ids'], output: ['ids_shape'], name: 'shape' },
      { opType: 'Slice', input: ['ids_shape', 'one', 'two', 'zero'], output: ['t'], name: 't' },
      { opType: 'Slice', input: ['table', 'zero', 't', 'zero'], output: ['rows'], name: 'rows' },
      { opType: 'Unsqueeze', input: ['rows', 'zero'], output: ['rows3'], name: 'unsqueeze' },
      { opType: 'Concat', input: ['ids_shape', 'v'], output: ['out_shape'], name: 'concat', attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Expand', input: ['rows3', 'out_shape'], output: ['logits'], name: 'expand' },
    ],
    initializer: [
      { name: 'table', dataType: 1, dims: [script.length, V], rawData: new Uint8Array(table.buffer) },
      i64('zero', [0]), i64('one', [1]), i64('two', [2]), i64('v', [V]),
    ],
    input: [
      { name: 'input_ids', type: tensorType(7, ['batch_size', 'decoder_sequence_length']) },
      { name: 'encoder_hidden_states', type: tensorType(1, ['batch_size', 'encoder_sequence_length', opts.width]) },
    ],
    output: [{ name: 'logits', type: tensorType(1, ['batch_size', 'decoder_sequence_length', V]) }],
  });
  await writeFile(path, bytes);
}
