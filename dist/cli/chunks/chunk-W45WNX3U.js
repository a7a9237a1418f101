import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a as w,d as b,e as $,m as k,n as h,o as v,p as S,q as C,t as j,u as A,v as R}from"./chunk-ZVQRGFHX.js";import{a as m}from"./chunk-5CEF447N.js";import{b as p}from"./chunk-POEC3V27.js";import{hostname as E}from"node:os";import{parseArgs as N}from"node:util";var B=(r,e)=>r.length>=e?r:r+" ".repeat(e-r.length);function O(r){let e=r.results.map(o=>[o.id,o.status,o.domains.join(","),o.notAfter?o.notAfter.slice(0,10):"-",o.daysLeft!==void 0?String(Math.floor(o.daysLeft)):"-",o.health,o.error?`[${o.error.class}] ${o.error.message}`:o.reason]),c=["CERTIFICATE","STATUS","DOMAINS","EXPIRES","DAYS","HEALTH","REASON"],t=c.map((o,n)=>Math.min(48,Math.max(o.length,...e.map(i=>i[n].length)))),l=o=>o.map((n,i)=>i===o.length-1?n:B(n.length>t[i]?`${n.slice(0,t[i]-1)}\u2026`:n,t[i])).join("  "),d=[l(c),...e.map(l)];for(let o of r.results){o.error?.hint&&d.push(`  ${o.id}: hint: ${o.error.hint}`);for(let n of o.hooks??[])n.status!=="ok"&&d.push(`  ${o.id}: hook ${n.type} ${n.status}: ${n.message??""}`)}let a=r.summary;return d.push(`${r.results.length} certificate(s): ${a.renewed} renewed, ${a.skipped} skipped, ${a["would-renew"]} would renew, ${a.deferred} deferred, ${a.failed} failed, ${a.locked} locked (${r.durationMs} ms)`),d.join(`
`)}var g=`usage: certkeeper <command> [options]

commands:
  run            renew every due certificate (default)
  plan           show what run would do (same as run --dry-run)
  check-config   validate the config file; no network call
  doctor         check everything a renewal needs (CAA, zones, delegation, store, account, \u2026)
                 without ordering or changing anything; --probe also times one TXT write
  schema         print the config's JSON Schema
  demo           issue a real certificate from a local Pebble CA into .certkeeper/
  import         adopt certificates from certbot, lego, acme.sh or PEM files (import --help)
  report         every stored certificate's health and renewal times; --html FILE (report --help)
  iam-policy     the least-privilege IAM policy for this config (iam-policy --help)

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --dry-run         decide and report, change nothing
      --force           renew even when not due
      --only <ids>      only these certificate ids (comma separated, repeatable)
      --shard <i/N>     only the certificates whose id hashes into shard i of N (1-based, N \u2264 256)
      --shards <N>      plan: also list the shards (of N) that hold due certificates (a GitHub matrix)
      --fail-on <when>  error (default) | warning | never
      --probe           doctor: write one probe TXT value per zone, time its propagation, remove it
      --json            print one JSON object on stdout ({ results: [...] }; doctor: { checks: [...] })
  -v, --verbose         debug log lines
  -h, --help            this help

exit status: 0 all good, 1 some certificate (doctor: some check) failed, 2 config or usage error`,x={stdout:r=>process.stdout.write(r),stderr:r=>process.stderr.write(r),env:process.env};async function V(r,e=x){if(r[0]==="import")return(await import("./import-QMPO5JGY.js")).importCommand(r.slice(1),e);if(r[0]==="report")return(await import("./report-WYF7VLGP.js")).reportCommand(r.slice(1),e);if(r[0]==="iam-policy")return(await import("./iam-policy-7FIDCJHF.js")).iamPolicyCommand(r.slice(1),e);let c;try{c=P(r)}catch(n){return e.stderr(`certkeeper: ${n.message}

${g}
`),2}let{values:t,positionals:l}=c;if(t.help)return e.stdout(`${g}
`),0;let d=l[0]??"run";if(l.length>1)return e.stderr(`certkeeper: unexpected argument "${l[1]}"
`),2;let a=t["fail-on"]??"error";if(!["error","warning","never"].includes(a))return e.stderr(`certkeeper: --fail-on must be error, warning or never
`),2;if(t.probe&&d!=="doctor")return e.stderr(`certkeeper: --probe is an option of doctor only
`),2;let o=(t.only??[]).flatMap(n=>n.split(",")).map(n=>n.trim()).filter(Boolean);switch(d){case"schema":return e.stdout(`${JSON.stringify(A(),null,2)}
`),0;case"check-config":{let n=await T(t.config,e);return n?(e.stdout(`${t.config}: ok, ${n.certificates.length} certificate(s): ${n.certificates.map(i=>i.id).join(", ")}
`),0):2}case"doctor":{let n;try{t.shard!==void 0&&(n=h(t.shard))}catch(s){if(!(s instanceof p))throw s;return e.stderr(`certkeeper: ${s.message}
`),2}let{doctorCommand:i}=await import("./doctor-7ZBWDOYT.js");return i({io:e,configPath:t.config,only:o,...n?{shard:n}:{},probe:!!t.probe,json:!!t.json,verbose:!!t.verbose,failOn:a})}case"demo":{let{demo:n}=await import("./demo-G4CNSRCY.js");return n({io:e,json:!!t.json,verbose:!!t.verbose})}case"run":case"plan":{let n=d==="plan"||!!t["dry-run"],i,s;try{if(t.shard!==void 0&&(i=h(t.shard)),t.shards!==void 0){if(!n)throw new p([{path:"--shards",message:"only with plan (or --dry-run)"}]);s=v(t.shards)}}catch(f){if(!(f instanceof p))throw f;return e.stderr(`certkeeper: ${f.message}
`),2}let u=await T(t.config,e);if(!u)return 2;let y=o.filter(f=>!u.certificates.some(I=>I.id===f));return y.length?(e.stderr(`certkeeper: --only: no certificate with id ${y.map(f=>`"${f}"`).join(", ")}
`),2):M(u,{io:e,dryRun:n,force:!!t.force,only:o,...i?{shard:i}:{},...s?{shards:s}:{},json:!!t.json,verbose:!!t.verbose,failOn:a})}default:return e.stderr(`certkeeper: unknown command "${d}"

${g}
`),2}}function P(r){return N({args:r,allowPositionals:!0,options:{config:{type:"string",short:"c",default:"certkeeper.yml"},"dry-run":{type:"boolean"},force:{type:"boolean"},only:{type:"string",multiple:!0},shard:{type:"string"},shards:{type:"string"},"fail-on":{type:"string"},probe:{type:"boolean"},json:{type:"boolean"},verbose:{type:"boolean",short:"v"},help:{type:"boolean",short:"h"}}})}async function T(r,e){try{return await j(r,{env:e.env,entry:"cli"})}catch(c){if(c instanceof p){e.stderr(`certkeeper: invalid config ${r}:
${c.issues.map(t=>`  ${t.path||r}: ${t.message}`).join(`
`)}
`);return}throw c}}async function M(r,e){let c=w({verbose:e.verbose,write:s=>e.io.stderr(`${s}
`)}),t=b(r,{clock:m,logger:c,env:e.io.env,entry:"cli"}),{shard:l}=e,d=l?{...r,certificates:r.certificates.filter(s=>S(s.id,l))}:r,a,o=R(c);try{a=await k(d,{dryRun:e.dryRun,force:e.force,only:e.only,issuedBy:{via:"cli",runId:`${E()}:${process.pid}`},signal:o.signal},{adapters:t,clock:m,logger:c})}catch(s){if(s instanceof p)return e.io.stderr(`certkeeper: ${s.message}
`),2;throw s}finally{o.dispose()}let n=a.results.filter(s=>s.status==="would-renew"||s.status==="failed").map(s=>s.id),i=e.shards?C(n,e.shards):void 0;if(e.json)e.io.stdout(`${JSON.stringify(i?{...a,shards:i}:a,null,2)}
`);else if(e.io.stdout(`${O(a)}
`),i){let s=i.map(u=>`${u.shard} (${u.ids.length})`).join(", ")||"none";e.io.stdout(`shards with due certificates: ${s}
`)}return $(a,e.failOn)?1:0}export{V as a,T as b,M as c};
