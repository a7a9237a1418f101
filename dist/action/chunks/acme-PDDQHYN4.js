import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-LU4ZFPBF.js";import"./chunk-V3S6JJAJ.js";import"./chunk-JINPB4VI.js";import"./chunk-POEC3V27.js";import"./chunk-BFHPYQZG.js";export{d as AcmeSession,b as parseRetryAfter,e as pollAcme,c as problemToError,a as readDirectory};
