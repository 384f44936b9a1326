export * from './matmul.ts';
export * from './backend.ts';
export * from './train.ts';
export * from './patch-onnx.ts';
export * from './export.ts';
export * from './package-export.ts';
