import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-ORPQ2I3J.mjs";import"./chunk-CXQ2DIFS.mjs";import"./chunk-OLE6HIMW.mjs";import"./chunk-IPPF7WO2.mjs";import"./chunk-EBNU3343.mjs";export{c as AcmeSession,a as parseRetryAfter,d as pollAcme,b as problemToError};
