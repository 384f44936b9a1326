export * from './spec.ts';
export * from './decode.ts';
