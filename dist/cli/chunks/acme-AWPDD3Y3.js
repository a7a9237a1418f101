import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-UYLI6PMY.js";import"./chunk-XGUA6HY3.js";import"./chunk-MF373XBT.js";import"./chunk-JINPB4VI.js";import"./chunk-CTXUGQFW.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as pollAcme,b as problemToError};
