import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-MSQTEZFI.mjs";import"./chunk-C6ODGDER.mjs";import"./chunk-OLE6HIMW.mjs";import"./chunk-U4WU2KPA.mjs";import"./chunk-EBNU3343.mjs";export{c as AcmeSession,a as parseRetryAfter,d as pollAcme,b as problemToError};
