import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
function i(r){let e=new URL(r),t=e.port&&e.port!=="443"?`_${e.port}`:"";return`${e.hostname}${t}`}export{i as a};
