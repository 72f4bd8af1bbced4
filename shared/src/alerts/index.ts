export * from './lifecycle.js';
export * from './rules.js';
export * from './types.js';
export * from './thresholds.js';
