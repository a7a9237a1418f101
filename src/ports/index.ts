export * from './clock.js';
export * from './dns.js';
export * from './exporter.js';
export * from './hooks.js';
export * from './logger.js';
export * from './store.js';
