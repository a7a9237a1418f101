import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-GF6EIKUR.mjs";import"./chunk-W4QONFOM.mjs";import"./chunk-IPPF7WO2.mjs";import"./chunk-EBNU3343.mjs";export{c as AcmeSession,a as parseRetryAfter,d as poll,b as problemToError};
