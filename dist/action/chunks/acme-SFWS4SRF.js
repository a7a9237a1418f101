import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-RH2M5SOZ.js";import"./chunk-PJ5RVWM5.js";import"./chunk-JINPB4VI.js";import"./chunk-POEC3V27.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as pollAcme,b as problemToError};
