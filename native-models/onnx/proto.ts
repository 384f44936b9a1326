// The ONNX protobuf classes (onnx-proto: protobufjs 6 code generated from onnx.proto3, ONNX 1.10.2, IR 8).
// onnx-proto is CommonJS; under Node's ESM loader its exports arrive as the default export.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const onnx: typeof OnnxTypes = onnxProto.onnx;

export type ModelProto = OnnxTypes.ModelProto;
export type GraphProto = OnnxTypes.GraphProto;
export type NodeProto = OnnxTypes.NodeProto;
export type TensorProto = OnnxTypes.TensorProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type ValueInfoProto = OnnxTypes.ValueInfoProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type AttributeProto = OnnxTypes.AttributeProto;
export type ITypeProto = OnnxTypes.ITypeProto;

/** TensorProto.DataType numbers (stable across ONNX versions; newer ones are listed for names only). */
export const ONNX_DTYPE: Readonly<Record<number, string>> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};

export const DTYPE_FLOAT = 1;

/** Bytes per element for the fixed-width types; undefined for string / sub-byte types. */
export const DTYPE_BYTES: Readonly<Record<number, number>> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1,
};

/** protobufjs decodes int64 as a Long object (the `long` package is installed) or a number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  if (v === null || v === undefined) return 0;
  throw new TypeError(`not an integer: ${String(v)}`);
}
