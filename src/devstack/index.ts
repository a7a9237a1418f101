// Local servers (Pebble, challtestsrv, moto, BIND, Knot, PowerDNS) shared by the tests, the demo and the benchmark.
export * from './authdns.js';
export * from './bind.js';
export * from './knot.js';
export * from './moto.js';
export * from './pebble.js';
export * from './powerdns.js';
export * from './process.js';
export * from './tlscert.js';
