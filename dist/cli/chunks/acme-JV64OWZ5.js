import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-PGYHHU5W.js";import"./chunk-XGUA6HY3.js";import"./chunk-6WW7BU5Z.js";import"./chunk-POEC3V27.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as poll,b as problemToError};
