import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
var E="CLOUDFLARE_API_TOKEN",_="CLOUDFLARE_BASE_URL";export{E as a,_ as b};
