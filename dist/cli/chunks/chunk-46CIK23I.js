import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{a as w,d as $,e as b,m as k,n as h,o as v,p as C,q as S,t as j,u as R,v as A}from"./chunk-UET4WMUG.js";import{a as m}from"./chunk-5CEF447N.js";import{b as p}from"./chunk-CTXUGQFW.js";import{hostname as x}from"node:os";import{parseArgs as B}from"node:util";var E=(t,r)=>t.length>=r?t:t+" ".repeat(r-t.length);function O(t){let r=t.results.some(e=>e.profile),a=t.results.map(e=>[e.id,e.status,e.domains.join(","),...r?[e.profile??"-"]:[],e.notAfter?e.notAfter.slice(0,10):"-",e.daysLeft!==void 0?String(Math.floor(e.daysLeft)):"-",e.health,e.error?`[${e.error.class}] ${e.error.message}`:e.reason]),o=["CERTIFICATE","STATUS","DOMAINS",...r?["PROFILE"]:[],"EXPIRES","DAYS","HEALTH","REASON"],d=o.map((e,s)=>Math.min(48,Math.max(e.length,...a.map(n=>n[s].length)))),l=e=>e.map((s,n)=>n===e.length-1?s:E(s.length>d[n]?`${s.slice(0,d[n]-1)}\u2026`:s,d[n])).join("  "),i=[l(o),...a.map(l)];for(let e of t.results){let s=e.renewalWindow;s&&i.push(`  ${e.id}: CA renewal window ${s.start} \u2013 ${s.end}, renews at ${s.selected}${s.explanationURL?` (${s.explanationURL})`:""}`),e.error?.hint&&i.push(`  ${e.id}: hint: ${e.error.hint}`);for(let n of e.hooks??[])n.status!=="ok"&&i.push(`  ${e.id}: hook ${n.type} ${n.status}: ${n.message??""}`)}let c=t.summary;return i.push(`${t.results.length} certificate(s): ${c.renewed} renewed, ${c.skipped} skipped, ${c["would-renew"]} would renew, ${c.deferred} deferred, ${c.failed} failed, ${c.locked} locked (${t.durationMs} ms)`),i.join(`
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

exit status: 0 all good, 1 some certificate (doctor: some check) failed, 2 config or usage error`,N={stdout:t=>process.stdout.write(t),stderr:t=>process.stderr.write(t),env:process.env};async function Q(t,r=N){if(t[0]==="import")return(await import("./import-AJJZIQ7N.js")).importCommand(t.slice(1),r);if(t[0]==="report")return(await import("./report-RUFX5RMJ.js")).reportCommand(t.slice(1),r);if(t[0]==="iam-policy")return(await import("./iam-policy-GD5VV6VR.js")).iamPolicyCommand(t.slice(1),r);let a;try{a=P(t)}catch(e){return r.stderr(`certkeeper: ${e.message}

${g}
`),2}let{values:o,positionals:d}=a;if(o.help)return r.stdout(`${g}
`),0;let l=d[0]??"run";if(d.length>1)return r.stderr(`certkeeper: unexpected argument "${d[1]}"
`),2;let i=o["fail-on"]??"error";if(!["error","warning","never"].includes(i))return r.stderr(`certkeeper: --fail-on must be error, warning or never
`),2;if(o.probe&&l!=="doctor")return r.stderr(`certkeeper: --probe is an option of doctor only
`),2;let c=(o.only??[]).flatMap(e=>e.split(",")).map(e=>e.trim()).filter(Boolean);switch(l){case"schema":return r.stdout(`${JSON.stringify(R(),null,2)}
`),0;case"check-config":{let e=await I(o.config,r);return e?(r.stdout(`${o.config}: ok, ${e.certificates.length} certificate(s): ${e.certificates.map(s=>s.id).join(", ")}
`),0):2}case"doctor":{let e;try{o.shard!==void 0&&(e=h(o.shard))}catch(n){if(!(n instanceof p))throw n;return r.stderr(`certkeeper: ${n.message}
`),2}let{doctorCommand:s}=await import("./doctor-CFLVX5FC.js");return s({io:r,configPath:o.config,only:c,...e?{shard:e}:{},probe:!!o.probe,json:!!o.json,verbose:!!o.verbose,failOn:i})}case"demo":{let{demo:e}=await import("./demo-QGJ7CQEL.js");return e({io:r,json:!!o.json,verbose:!!o.verbose})}case"run":case"plan":{let e=l==="plan"||!!o["dry-run"],s,n;try{if(o.shard!==void 0&&(s=h(o.shard)),o.shards!==void 0){if(!e)throw new p([{path:"--shards",message:"only with plan (or --dry-run)"}]);n=v(o.shards)}}catch(f){if(!(f instanceof p))throw f;return r.stderr(`certkeeper: ${f.message}
`),2}let u=await I(o.config,r);if(!u)return 2;let y=c.filter(f=>!u.certificates.some(T=>T.id===f));return y.length?(r.stderr(`certkeeper: --only: no certificate with id ${y.map(f=>`"${f}"`).join(", ")}
`),2):F(u,{io:r,dryRun:e,force:!!o.force,only:c,...s?{shard:s}:{},...n?{shards:n}:{},json:!!o.json,verbose:!!o.verbose,failOn:i})}default:return r.stderr(`certkeeper: unknown command "${l}"

${g}
`),2}}function P(t){return B({args:t,allowPositionals:!0,options:{config:{type:"string",short:"c",default:"certkeeper.yml"},"dry-run":{type:"boolean"},force:{type:"boolean"},only:{type:"string",multiple:!0},shard:{type:"string"},shards:{type:"string"},"fail-on":{type:"string"},probe:{type:"boolean"},json:{type:"boolean"},verbose:{type:"boolean",short:"v"},help:{type:"boolean",short:"h"}}})}async function I(t,r){try{return await j(t,{env:r.env,entry:"cli"})}catch(a){if(a instanceof p){r.stderr(`certkeeper: invalid config ${t}:
${a.issues.map(o=>`  ${o.path||t}: ${o.message}`).join(`
`)}
`);return}throw a}}async function F(t,r){let a=w({verbose:r.verbose,write:n=>r.io.stderr(`${n}
`)}),o=$(t,{clock:m,logger:a,env:r.io.env,entry:"cli"}),{shard:d}=r,l=d?{...t,certificates:t.certificates.filter(n=>C(n.id,d))}:t,i,c=A(a);try{i=await k(l,{dryRun:r.dryRun,force:r.force,only:r.only,issuedBy:{via:"cli",runId:`${x()}:${process.pid}`},signal:c.signal},{adapters:o,clock:m,logger:a})}catch(n){if(n instanceof p)return r.io.stderr(`certkeeper: ${n.message}
`),2;throw n}finally{c.dispose()}let e=i.results.filter(n=>n.status==="would-renew"||n.status==="failed").map(n=>n.id),s=r.shards?S(e,r.shards):void 0;if(r.json)r.io.stdout(`${JSON.stringify(s?{...i,shards:s}:i,null,2)}
`);else if(r.io.stdout(`${O(i)}
`),s){let n=s.map(u=>`${u.shard} (${u.ids.length})`).join(", ")||"none";r.io.stdout(`shards with due certificates: ${n}
`)}return b(i,r.failOn)?1:0}export{Q as a,I as b,F as c};
