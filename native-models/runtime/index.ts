export * from './session.ts';
export * from './vulkan-drivers.ts';
export * from './run-failure.ts';
