import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-5W5O5OJP.mjs";import"./chunk-W4QONFOM.mjs";import"./chunk-OLE6HIMW.mjs";import"./chunk-IPPF7WO2.mjs";import"./chunk-EBNU3343.mjs";export{d as AcmeSession,b as parseRetryAfter,e as pollAcme,c as problemToError,a as readDirectory};
