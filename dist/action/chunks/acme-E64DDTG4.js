import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-FIPRIIRE.js";import"./chunk-V3S6JJAJ.js";import"./chunk-POEC3V27.js";import"./chunk-BFHPYQZG.js";export{c as AcmeSession,a as parseRetryAfter,d as poll,b as problemToError};
