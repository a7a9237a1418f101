import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
var e={debug(){},info(){},warn(){},error(){},child(){return e}};export{e as a};
