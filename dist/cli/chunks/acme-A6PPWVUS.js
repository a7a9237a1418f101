import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-GCNBT5WM.js";import"./chunk-XGUA6HY3.js";import"./chunk-OCKRCBNC.js";import"./chunk-IHGLVPN7.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as poll,b as problemToError};
