// Local servers (Pebble, challtestsrv, moto) shared by the tests, the demo and the benchmark.
export * from './moto.js';
export * from './pebble.js';
export * from './process.js';
export * from './tlscert.js';
