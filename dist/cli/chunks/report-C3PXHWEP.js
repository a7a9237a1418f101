import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a as D,b as S,f as E,g as N,h as F,i as T,l as M}from"./chunk-EZWNH4KH.js";import"./chunk-VVGQHCTA.js";import"./chunk-3JHPC74J.js";import"./chunk-IANQHU7S.js";import"./chunk-5XSE7TIK.js";import"./chunk-3CIZK6AB.js";import{a as A}from"./chunk-5CEF447N.js";import{b as C}from"./chunk-6WW7BU5Z.js";import{i as k}from"./chunk-POEC3V27.js";import"./chunk-BFHPYQZG.js";import{writeFile as re}from"node:fs/promises";import{parseArgs as ie}from"node:util";var Y=16,j={expired:0,critical:1,missing:2,warning:3,ok:4};function H(e,t){return j[e.health]-j[t.health]||+!!t.problem-+!!e.problem||Number(t.failing)-Number(e.failing)||Date.parse(e.renewAt??e.notAfter??"")-Date.parse(t.renewAt??t.notAfter??"")||e.id.localeCompare(t.id)}async function L(e,t,s){let l=s.clock.now(),c=t.only?.length?new Set(t.only):void 0,i=e.certificates.filter(o=>!c||c.has(o.id)),r=await T(i,Y,o=>B(o,e,l,t,s));r.sort(H);let a={total:r.length,ok:0,warning:0,critical:0,expired:0,missing:0,failing:0,unreadable:0};for(let o of r)a[o.health]++,o.failing&&a.failing++,o.problem&&a.unreadable++;return{generatedAt:l.toISOString(),certificates:r,summary:a}}async function B(e,t,s,l,c){let i={id:e.id,domains:e.domains},r;try{r=await c.adapters.store(e);let[a,o]=await Promise.all([r.read(l.signal),r.readRenewalState?.(l.signal).catch(b=>{c.logger.warn(`${e.id}: cannot read its renewal state: ${k(b).message}`)})]),d={type:r.type,ref:r.ref,...a.kind==="found"&&a.version?{version:a.version}:{}},n;if(a.kind==="missing")n={kind:"missing"};else if(a.kind==="unreadable")n={kind:"unreadable",reason:a.reason};else try{let b=C(a.certificate.certificate);n={kind:"found",info:b,domains:a.certificate.domains,keyType:b.keyType}}catch(b){n={kind:"unreadable",reason:`certificate does not parse: ${b.message}`}}let p=F(n,e,t.renewal,s),g={...i,health:p.health,failing:(o?.failures?.count??0)>0,due:p.due,reason:p.reason,store:d,...n.kind==="unreadable"?{problem:n.reason}:{},..._(o)};if(n.kind!=="found"||a.kind!=="found")return{...g,renewAt:s.toISOString()};let{info:u}=n,f=N(u,t.renewal),m=o?.ari,w=p.due?s:P(f,m?W(m,s):void 0),y=!p.due&&w.getTime()<=s.getTime();return{...g,...y?{due:!0,reason:`due: the CA's renewal window (ARI) ${m?.start} .. ${m?.end} says renew now`}:{},serialNumber:u.serialNumber,issuer:u.issuer,notBefore:u.notBefore.toISOString(),notAfter:u.notAfter.toISOString(),daysLeft:E(u.notAfter,s),renewAt:w.toISOString(),renewalWindow:m?{start:m.start,end:m.end,source:"ari",...m.selected?{selected:m.selected}:{},...m.explanationURL?{explanationURL:m.explanationURL}:{}}:{start:f.toISOString(),end:u.notAfter.toISOString(),source:"threshold"},issuedAt:a.certificate.issuedAt,issuedBy:a.certificate.issuedBy}}catch(a){let o=k(a);return c.logger.error(`${e.id}: cannot read its store [${o.class}] ${o.message}`),{...i,health:"missing",failing:!1,due:!1,reason:"store unreadable",store:r?{type:r.type,ref:r.ref}:{type:e.store.type,ref:""},problem:`[${o.class}] ${o.message}`}}}function O(e,t){if(t==="never")return!1;let s=e.summary;return s.unreadable>0?!0:t==="warning"&&(s.failing>0||s.total!==s.ok)}function W(e,t){let s=Date.parse(e.end);if(Number.isNaN(s))return;if(s<=t.getTime())return t;let l=Date.parse(e.selected??e.start);return Number.isNaN(l)?void 0:new Date(l)}function P(e,t){return t&&t.getTime()<e.getTime()?t:e}function _(e){let t=e?.failures;return!t||t.count<=0?{}:{lastFailure:{class:t.lastClass,at:t.lastAt,attempts:t.count,...t.lastMessage?{message:t.lastMessage}:{},...t.nextAttemptAt?{nextAttemptAt:t.nextAttemptAt}:{}}}}var R=["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"],J=[{health:"expired",title:"Expired"},{health:"critical",title:"Critical"},{health:"missing",title:"Missing"},{health:"warning",title:"Warning"},{health:"ok",title:"OK"}],K=40,X=50;function G(e){return e.replace(/[&<>"']/g,t=>`&#${t.charCodeAt(0)};`)}var x=G,v=e=>new Date(e).toISOString().slice(0,10),I=e=>{let t=new Date(e);return`${R[t.getUTCMonth()]} ${t.getUTCDate()}`};function V(e,t){let s=e.map(d=>Date.parse(d.notBefore??"")).filter(Number.isFinite),l=e.flatMap(d=>[Date.parse(d.notAfter??""),Date.parse(d.renewalWindow?.end??"")]).filter(Number.isFinite),c=Math.max(t-120*864e5,Math.min(t-14*864e5,...s)),i=Math.min(t+400*864e5,Math.max(t+30*864e5,...l)+3*864e5),r=i-c,a=[],o=new Date(c);if(r<=75*864e5){let d=Date.UTC(o.getUTCFullYear(),o.getUTCMonth(),o.getUTCDate());for(;new Date(d).getUTCDay()!==1;)d+=864e5;for(;d<=i;d+=7*864e5)a.push({t:d,label:I(d)})}else{let d=r<=19008e6?1:r<=432e8?2:3,n=o.getUTCFullYear(),p=o.getUTCMonth()+1;for(;;){p>11&&(n+=Math.floor(p/12),p%=12);let g=Date.UTC(n,p,1);if(g>i)break;p%d===0&&a.push({t:g,label:p===0?`${R[0]} ${n}`:R[p]}),p++}}return{start:c,end:i,pct:d=>Math.max(0,Math.min(100,(d-c)/r*100)),ticks:a}}var h=e=>e.toFixed(2);function q(e,t,s){let l=[],c=t.ticks.map(a=>`<i class="g" style="left:${h(t.pct(a.t))}%"></i>`).join(""),i=Date.parse(e.notBefore??""),r=Date.parse(e.notAfter??"");if(Number.isFinite(i)&&Number.isFinite(r)){let a=t.pct(i),o=t.pct(Math.min(Math.max(s,i),r)),d=t.pct(r),n=r>t.end?" clip":"";l.push(`<b class="bar past" style="left:${h(a)}%;width:${h(o-a)}%"></b>`),l.push(`<b class="bar left${n}" style="left:${h(o)}%;width:${h(d-o)}%"></b>`);let p=e.renewalWindow;if(p&&Date.parse(p.start)<t.end){let u=t.pct(Date.parse(p.start)),f=t.pct(Date.parse(p.end));l.push(`<b class="win ${p.source}" style="left:${h(u)}%;width:${h(Math.max(.3,f-u))}%"></b>`)}let g=Date.parse(e.renewAt??"");Number.isFinite(g)&&g<t.end&&l.push(`<b class="renew" style="left:${h(t.pct(g))}%"></b>`),n&&l.push(`<span class="more">\u2192 ${x(v(r))}</span>`)}else l.push(`<span class="empty">${x(e.problem?`store unreadable: ${e.problem}`:"no certificate stored yet")}</span>`);return l.push(`<b class="today" style="left:${h(t.pct(s))}%"></b>`),`<div class="track">${c}${l.join("")}</div>`}function Q(e){let t=[e.id,e.domains.join(", ")];return e.notAfter&&t.push(`valid ${v(Date.parse(e.notBefore??""))} \u2192 ${v(Date.parse(e.notAfter))}`),e.renewAt&&t.push(`next renewal ${e.renewAt.replace("T"," ").slice(0,16)} UTC`),e.renewalWindow&&t.push(`renewal window (${e.renewalWindow.source}) ${v(Date.parse(e.renewalWindow.start))} \u2192 ${v(Date.parse(e.renewalWindow.end))}`),e.serialNumber&&t.push(`serial ${e.serialNumber}`),e.issuer&&t.push(`issuer ${e.issuer}`),t.push(`store ${e.store.type} ${e.store.ref}`),t.push(e.reason),e.lastFailure&&t.push(`last failure ${e.lastFailure.class}: ${e.lastFailure.message??""}`),x(t.join(`
`))}function Z(e,t,s){let l=e.domains.length>2?`${e.domains.slice(0,2).join(", ")} +${e.domains.length-2}`:e.domains.join(", "),c=e.daysLeft===void 0?"\u2013":e.daysLeft<0?`${Math.ceil(-e.daysLeft)}d ago`:`${Math.floor(e.daysLeft)}d`,i=e.lastFailure,r=i?`<span class="badge" title="${x(`${i.attempts} failed attempt(s), last ${i.at}${i.nextAttemptAt?`, next ${i.nextAttemptAt}`:""}: ${i.message??""}`)}">${x(i.class)}${i.attempts>1?` \xD7${i.attempts}`:""}</span>`:e.problem?'<span class="badge">store</span>':e.due?'<span class="badge due">due</span>':"";return`<div class="row h-${e.health}" data-cert="${x(e.id)}" title="${Q(e)}"><div class="name"><span class="id">${x(e.id)}</span><span class="dom">${x(l)}</span></div><div class="days">${c}</div>${q(e,t,s)}<div class="fail">${r}</div></div>`}function ee(e,t){let l=Array.from({length:13},()=>({expired:0,critical:0,warning:0,ok:0,missing:0})),c=0;for(let n of e){let p=Date.parse(n.notAfter??"");if(!Number.isFinite(p))continue;let g=Math.floor((p-t)/(7*864e5));g<0?l[0].expired++:g<13?l[g][n.health]++:c++}let i=Math.max(1,...l.map(n=>n.expired+n.critical+n.warning+n.ok+n.missing)),r=28,a=70,o=l.map((n,p)=>{let g=a,u=["expired","critical","warning","ok"].map(y=>{if(!n[y])return"";let b=Math.max(2,n[y]/i*(a-4));return g-=b,`<rect class="c-${y}" x="${p*(r+6)}" y="${h(g)}" width="${r}" height="${h(b)}" rx="2"></rect>`}).join(""),f=n.expired+n.critical+n.warning+n.ok,m=f?`<text x="${p*(r+6)+r/2}" y="${h(g-3)}" class="n">${f}</text>`:"",w=p%2===0?`<text x="${p*(r+6)+r/2}" y="${a+13}" class="w">${p===0?"now":I(t+p*7*864e5)}</text>`:"";return`<g><title>${f} expiring in week ${p+1}</title>${u}${m}${w}</g>`}).join(""),d=13*(r+6);return`<figure class="weeks"><figcaption>Expiring per week, next 13 weeks${c?` <span class="muted">(${c} later)</span>`:""}</figcaption><svg viewBox="0 -12 ${d} ${a+28}" width="${d}" height="${a+28}" role="img" aria-label="expiries per week">${o}</svg></figure>`}var te=`
:root{--ok:#2da44e;--warning:#d4a72c;--critical:#e16f24;--expired:#cf222e;--missing:#8c959f;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--ari:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{padding:20px 28px 8px;display:flex;flex-wrap:wrap;gap:18px 40px;align-items:flex-end;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:20px;margin:0 0 2px}
.sub,.muted{color:var(--muted);font-weight:normal}
.chips{display:flex;gap:8px;flex-wrap:wrap;margin:10px 0 12px}
.chip{border:1px solid var(--line);border-radius:999px;padding:3px 12px 3px 9px;background:#fff;white-space:nowrap}
.chip b{font-size:16px;margin-right:4px}
.chip::before{content:"";display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;background:var(--c,#999)}
.chip.zero{opacity:.45}
.weeks{margin:0 0 8px}.weeks figcaption{font-size:12px;color:var(--muted);margin-bottom:2px}
.weeks text{font-size:10px;text-anchor:middle;fill:var(--muted)}.weeks text.n{fill:var(--ink);font-weight:600}
.c-ok{fill:var(--ok)}.c-warning{fill:var(--warning)}.c-critical{fill:var(--critical)}.c-expired{fill:var(--expired)}
.legend{display:flex;gap:18px;flex-wrap:wrap;padding:10px 28px;color:var(--muted);font-size:12px;align-items:center}
.legend svg{vertical-align:middle;margin-right:5px}
main{padding:0 28px 28px}
.grid{--name:minmax(170px,260px);--days:64px;--fail:120px}
.row,.axis{display:grid;grid-template-columns:var(--name) var(--days) 1fr var(--fail);gap:0 12px;align-items:center}
.row{min-height:30px;border-bottom:1px solid #eaeef2;padding:3px 0}
.row:hover{background:#f6f8fa}
.dense .row{min-height:22px;padding:1px 0}.dense .dom{display:none}.dense .id{font-size:12px}
.axis{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);height:30px;font-size:11px;color:var(--muted)}
.axis .ticks{position:relative;height:100%}
.axis .ticks span{position:absolute;bottom:6px;transform:translateX(-50%);white-space:nowrap}
.axis .ticks span.now{color:var(--ink);font-weight:700;bottom:auto;top:2px}
.name{min-width:0;overflow:hidden}
.id{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.dom{display:block;color:var(--muted);font-size:11.5px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.days{text-align:right;font-variant-numeric:tabular-nums;font-weight:600;color:var(--c)}
.track{position:relative;height:18px}
.track .g{position:absolute;top:-4px;bottom:-4px;width:1px;background:#eef1f4}
.track b{position:absolute;display:block}
.bar{top:4px;height:10px}
.bar.past{background:var(--c);opacity:.22;border-radius:5px 0 0 5px}
.bar.left{background:var(--c);border-radius:0 5px 5px 0}
.bar.clip{border-radius:0;-webkit-mask-image:linear-gradient(90deg,#000 85%,transparent);mask-image:linear-gradient(90deg,#000 85%,transparent)}
.win{top:2px;height:14px;border-radius:3px;background:repeating-linear-gradient(135deg,rgba(255,255,255,.75) 0 3px,transparent 3px 7px);outline:1px solid rgba(31,35,40,.35)}
.win.ari{outline:2px solid var(--ari)}
.renew{top:-3px;height:24px;width:2px;margin-left:-1px;background:var(--ink)}
.today{top:-6px;bottom:-6px;width:2px;margin-left:-1px;background:var(--ari);opacity:.8}
.more{position:absolute;right:0;top:-1px;font-size:10px;color:var(--muted);background:#fff;padding:0 2px}
.empty{position:absolute;left:0;top:0;font-size:11.5px;color:var(--muted);font-style:italic;white-space:nowrap;overflow:hidden;max-width:100%}
.h-ok{--c:var(--ok)}.h-warning{--c:var(--warning)}.h-critical{--c:var(--critical)}.h-expired{--c:var(--expired)}.h-missing{--c:var(--missing)}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:999px;background:#ffebe9;color:#a40e26;border:1px solid #ffcecb;white-space:nowrap}
.badge.due{background:#fff8c5;color:#7d4e00;border-color:#eac54f}
details{margin-top:14px}
summary{cursor:pointer;font-weight:600;padding:6px 0;border-bottom:2px solid var(--c);list-style-position:inside}
summary .muted{margin-left:6px}
.total{display:grid;grid-template-columns:var(--name) var(--days) 1fr var(--fail);gap:0 12px;margin-top:16px;padding:10px 0;border-top:2px solid var(--ink);font-weight:600}
.total .counts span{margin-right:16px;white-space:nowrap}
.total .counts i{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;background:var(--c)}
footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
@media print{.axis{position:static}details{break-inside:auto}}
`;function U(e,t={}){let s=Date.parse(e.generatedAt),l=e.certificates,c=V(l,s),i=e.summary,r=t.title??"certkeeper \u2014 fleet report",a=(f,m,w)=>`<span class="chip h-${f}${m?"":" zero"}" style="--c:var(--${f})"><b>${m}</b>${w}</span>`,o=[a("ok",i.ok,"ok"),a("warning",i.warning,"warning"),a("critical",i.critical,"critical"),a("expired",i.expired,"expired"),a("missing",i.missing,"missing"),`<span class="chip${i.failing?"":" zero"}" style="--c:#a40e26"><b>${i.failing}</b>failing</span>`].join(""),d=c.pct(s),n=[...c.ticks.filter(f=>Math.abs(c.pct(f.t)-d)>6&&c.pct(f.t)<95).map(f=>`<span style="left:${h(c.pct(f.t))}%">${x(f.label)}</span>`),`<span class="now" style="left:${h(d)}%">today</span>`].join(""),p=J.map(({health:f,title:m})=>{let w=l.filter($=>$.health===f);if(w.length===0)return"";let y=w.filter($=>$.failing).length,b=f!=="ok"||w.length<=K?" open":"";return`<details class="h-${f}" data-group="${f}"${b}><summary>${m} <span class="muted">${w.length} certificate${w.length===1?"":"s"}${y?`, ${y} failing`:""}</span></summary>${w.map($=>Z($,c,s)).join("")}</details>`}).join(""),g=["ok","warning","critical","expired","missing"].map(f=>`<span class="h-${f}"><i></i>${i[f]} ${f}</span>`).join(""),u=['<span><svg width="34" height="12"><rect x="0" y="2" width="14" height="8" rx="3" fill="#2da44e" opacity=".22"></rect><rect x="14" y="2" width="20" height="8" rx="3" fill="#2da44e"></rect></svg>valid (pale: elapsed, solid: left)</span>',`<span><svg width="26" height="14"><defs><pattern id="lg-h" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#fff" opacity=".8"></rect></pattern></defs><rect x="1" y="1" width="24" height="12" rx="3" fill="#2da44e"></rect><rect x="1" y="1" width="24" height="12" rx="3" fill="url(#lg-h)" stroke="#1f2328" stroke-opacity=".4"></rect></svg>renewal window (blue edge: the CA's, ARI)</span>`,'<span><svg width="6" height="16"><rect x="2" y="0" width="2" height="16" fill="#1f2328"></rect></svg>next renewal</span>','<span><svg width="6" height="16"><rect x="2" y="0" width="2" height="16" fill="#0969da"></rect></svg>today</span>','<span><span class="badge">dns-provider \xD72</span> last failure</span>'].join("");return`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${x(r)}</title>
<style>${te}</style></head>
<body>
<header><div><h1>${x(r)}</h1><div class="sub">${i.total} certificate${i.total===1?"":"s"} \xB7 generated ${x(e.generatedAt.replace("T"," ").slice(0,16))} UTC${i.unreadable?` \xB7 <b>${i.unreadable} store(s) unreadable</b>`:""}</div><div class="chips">${o}</div></div>${ee(l,s)}</header>
<div class="legend">${u}</div>
<main class="grid${l.length>X?" dense":""}">
<div class="axis"><div>certificate</div><div style="text-align:right">left</div><div class="ticks">${n}</div><div>failure \xB7 due</div></div>
${p}
<div class="total"><div>${i.total} certificates</div><div></div><div class="counts">${g}<span>${i.failing} failing</span></div><div></div></div>
</main>
<footer>Read from the stores only: no CA, no DNS. Hover a row for its details. certkeeper report --html</footer>
</body></html>
`}var z=`usage: certkeeper report [options]

Every configured certificate as its store holds it: health, expiry, days left, next renewal
time (threshold or the CA's ARI window), renewal window, last failure. Reads the stores only:
no CA, no DNS.

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --only <ids>      only these certificate ids (comma separated, repeatable)
      --json            print one JSON object { generatedAt, certificates: [...], summary } on stdout
      --html <file>     also write a self-contained HTML page with a timeline of every certificate
      --fail-on <when>  error (default: a store could not be read) | warning (also any certificate
                        not ok, or failing) | never
  -v, --verbose         debug log lines

exit status: 0 as asked by --fail-on, 1 otherwise, 2 config or usage error`;async function ve(e,t){let s;try{let n=ne(e);if(n.positionals.length)throw new Error(`unexpected argument "${n.positionals[0]}"`);s=n.values}catch(n){return t.stderr(`certkeeper report: ${n.message}

${z}
`),2}if(s.help)return t.stdout(`${z}
`),0;let l=s["fail-on"]??"error";if(!["error","warning","never"].includes(l))return t.stderr(`certkeeper report: --fail-on must be error, warning or never
`),2;let c=await M(s.config,t);if(!c)return 2;let i=(s.only??[]).flatMap(n=>n.split(",")).map(n=>n.trim()).filter(Boolean),r=i.filter(n=>!c.certificates.some(p=>p.id===n));if(r.length)return t.stderr(`certkeeper report: --only: no certificate with id ${r.map(n=>`"${n}"`).join(", ")}
`),2;let a=D({verbose:!!s.verbose,write:n=>t.stderr(`${n}
`)}),o=S(c,{clock:A,logger:a,env:t.env,entry:"cli"}),d=await L(c,{only:i},{adapters:o,clock:A,logger:a});return s.html&&(await re(s.html,U(d)),t.stderr(`wrote ${s.html} (${d.certificates.length} certificates)
`)),t.stdout(s.json?`${JSON.stringify(d,null,2)}
`:`${oe(d)}
`),O(d,l)?1:0}function ne(e){return ie({args:e,allowPositionals:!0,options:{config:{type:"string",short:"c",default:"certkeeper.yml"},only:{type:"string",multiple:!0},json:{type:"boolean"},html:{type:"string"},"fail-on":{type:"string"},verbose:{type:"boolean",short:"v"},help:{type:"boolean",short:"h"}}})}var ae=(e,t)=>e.length>t?`${e.slice(0,t-1)}\u2026`:e,se=e=>e?e.replace("T"," ").slice(0,16):"-";function oe(e){let t=["HEALTH","CERTIFICATE","DOMAINS","EXPIRES","DAYS","NEXT RENEWAL","WINDOW","LAST FAILURE"],s=e.certificates.map(r=>[r.failing?`${r.health}!`:r.health,r.id,r.domains.join(","),r.notAfter?r.notAfter.slice(0,10):"-",r.daysLeft!==void 0?String(Math.floor(r.daysLeft)):"-",r.due?"due now":se(r.renewAt),r.renewalWindow?`${r.renewalWindow.start.slice(0,10)}..${r.renewalWindow.end.slice(0,10)} ${r.renewalWindow.source}`:"-",r.lastFailure?`[${r.lastFailure.class}] \xD7${r.lastFailure.attempts} ${r.lastFailure.message??""}`:r.problem??""]),l=t.map((r,a)=>Math.min(40,Math.max(r.length,...s.map(o=>o[a].length)))),c=r=>r.map((a,o)=>o===r.length-1?a:ae(a,l[o]).padEnd(l[o])).join("  ").trimEnd(),i=e.summary;return[c(t),...s.map(c),`${i.total} certificate(s): ${i.ok} ok, ${i.warning} warning, ${i.critical} critical, ${i.expired} expired, ${i.missing} missing; ${i.failing} failing${i.unreadable?`; ${i.unreadable} store(s) unreadable`:""}`].join(`
`)}export{z as REPORT_USAGE,oe as formatReportTable,ve as reportCommand};
