export * from './layout.ts';
export * from './pipeline.ts';
export * from './random.ts';
export * from './float16.ts';
export * from './schedulers/index.ts';
