export * from './inspect.ts';
export * from './labels.ts';
export * from './math.ts';
export * from './package.ts';
export * from './open.ts';
