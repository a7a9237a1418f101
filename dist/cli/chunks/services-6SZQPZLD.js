import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{i as t}from"./chunk-PZQ5XSRK.js";import"./chunk-SQN2EKT4.js";import"./chunk-5CEF447N.js";import"./chunk-BFHPYQZG.js";function o(e){return e.services?.aws??t()}export{o as awsClients};
