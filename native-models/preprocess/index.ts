export * from './spec.ts';
export * from './decode.ts';
export * from './preprocess-file.ts';
