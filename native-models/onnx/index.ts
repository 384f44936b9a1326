export * from './proto.ts';
export * from './model.ts';
