import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g,h,i,j}from"./chunk-FGZX5TNS.js";import"./chunk-BFHPYQZG.js";export{f as combine,j as configFailure,h as doctorFailed,e as fail,i as forDisplay,b as pass,c as skip,g as summarizeChecks,d as warn,a as worst};
