import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
function i(t){let e=new URL(t),r=e.port&&e.port!=="443"?`_${e.port}`:"";return`${e.hostname}${r}`}export{i as a};
