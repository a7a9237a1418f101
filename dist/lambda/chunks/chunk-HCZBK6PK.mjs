import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
var i={now:()=>new Date,sleep:(r,e)=>new Promise((n,o)=>{if(e?.aborted)return o(e.reason);let s=setTimeout(()=>{e?.removeEventListener("abort",t),n()},r),t=()=>{clearTimeout(s),o(e?.reason)};e?.addEventListener("abort",t,{once:!0})})};export{i as a};
