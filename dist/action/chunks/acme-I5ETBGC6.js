import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-67CKWJD3.js";import"./chunk-AUQ4OL6W.js";import"./chunk-JINPB4VI.js";import"./chunk-CTXUGQFW.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as pollAcme,b as problemToError};
