import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);
import{b as P}from"./chunk-46CIK23I.js";import{a as g,c as y,d as h}from"./chunk-UET4WMUG.js";import{c as x}from"./chunk-7VYDRZOJ.js";import"./chunk-ZOY3MSOP.js";import"./chunk-3KVRJ7BP.js";import"./chunk-CQ4VML4F.js";import"./chunk-MB4EHIG5.js";import"./chunk-N7F2EPXG.js";import"./chunk-5TKIOWSG.js";import"./chunk-UEWYZOY6.js";import{a as u}from"./chunk-5CEF447N.js";import"./chunk-3TBCFXYP.js";import"./chunk-5BYBCQUQ.js";import"./chunk-BUQLQTB5.js";import"./chunk-CTXUGQFW.js";import"./chunk-BFHPYQZG.js";import{parseArgs as k}from"node:util";var f=c=>Array.isArray(c)?c:[c];function A(c){let r=new Map;for(let e of c){let i=Object.entries(e.Condition??{}).map(([o,t])=>`${o}:${Object.keys(t).sort().join(",")}`).sort().join(";"),d=[e.Sid??"",e.Effect,[...e.Action].sort().join(","),i].join("|"),n=r.get(d);if(!n){r.set(d,{...e,Action:[...new Set(e.Action)].sort(),Resource:f(e.Resource),...e.Condition?{Condition:structuredClone(e.Condition)}:{}});continue}n.Resource=[...new Set([...f(n.Resource),...f(e.Resource)])];for(let[o,t]of Object.entries(e.Condition??{}))for(let[m,p]of Object.entries(t)){let s=n.Condition[o],a=[...new Set([...f(s[m]),...f(p)])].sort();s[m]=a.length===1?a[0]:a}}return[...r.values()].map(e=>{let i=f(e.Resource).sort(),d=i.filter(o=>o==="*"||o.endsWith("/*")),n=i.filter(o=>!d.some(t=>t!==o&&(t==="*"||o.startsWith(t.slice(0,-1)))));return{...e,Resource:n.length===1?n[0]:n}})}function l(c,r){return c.find(e=>e.name===r)}async function S(c,r,e={}){let i=[],d=[],n=async(o,t,m,p)=>{if(!t)return;let s=await t.permissions(m,p);i.push(...s.iam??[]);for(let a of s.grants??[])d.push({where:`${o} (${t.name})`,text:a})};for(let[o,t]of c.certificates.entries()){let m={certificate:{id:t.id,domains:t.domains},challengeNames:[...new Set(t.domains.map(s=>x(s,t.dns.challengeAlias)))],directoryUrl:c.acme.directoryUrl,...e.discover?{discover:!0}:{},...e.ctx?{ctx:e.ctx}:{}},p=`certificates[${o}]`;await n(`${p}.dns`,l(r.dns,t.dns.provider),t.dns,m),await n(`${p}.store`,l(r.store,t.store.type),t.store,m);for(let[s,a]of t.exports.entries())await n(`${p}.exports[${s}]`,l(r.export,a.type),a,m);for(let[s,a]of t.hooks.entries())await n(`${p}.hooks[${s}]`,l(r.hook,a.type),a,m);if(o===0){let a=l(r.store,t.store.type)?.accountPermissions?.(t.store,m);i.push(...a?.iam??[])}}if(e.ssmParameter){let o=e.ssmParameter.replace(/^\//,"");i.push({Sid:"SsmReadConfig",Effect:"Allow",Action:["ssm:GetParameter"],Resource:e.ssmParameter.startsWith("arn:")?e.ssmParameter:`arn:aws:ssm:*:*:parameter/${o}`})}return{policy:{Version:"2012-10-17",Statement:A(i)},grants:d}}var C=`usage: certkeeper iam-policy [options]

Prints the least-privilege IAM policy for exactly this config: Route 53 changes pinned to the
configured zones and _acme-challenge record names, Secrets Manager on the configured secrets (and
their .lock), KMS keys, ACM, EventBridge buses. Grants outside AWS (DNS provider tokens, TSIG keys)
go to stderr as notes. No network call unless --discover.

options:
  -c, --config <file>          config file (default: certkeeper.yml)
      --discover               look up what the config leaves to discovery (hosted zone ids), with
                               the credentials of the environment
      --ssm-parameter <name>   the SSM parameter a Lambda reads its config from (GetParameter)
  -h, --help                   this help

exit status: 0 printed, 2 config or usage error`;async function G(c,r){let e;try{e=k({args:c,allowPositionals:!1,options:{config:{type:"string",short:"c",default:"certkeeper.yml"},discover:{type:"boolean"},"ssm-parameter":{type:"string"},help:{type:"boolean",short:"h"}}}).values}catch(s){return r.stderr(`certkeeper iam-policy: ${s.message}

${C}
`),2}if(e.help)return r.stdout(`${C}
`),0;let i=await P(e.config,r);if(!i)return 2;let d=g({verbose:!1,write:s=>r.stderr(`${s}
`)}),n={clock:u,logger:d,env:r.env,entry:"cli"},o=e.discover?h(i,n):void 0,t=e["ssm-parameter"]??r.env.CERTKEEPER_CONFIG_SSM_PARAMETER,{policy:m,grants:p}=await S(i,y,{...o?{discover:!0,ctx:{...n,lookup:o.lookup}}:{},...t?{ssmParameter:t}:{}});r.stdout(`${JSON.stringify(m,null,2)}
`);for(let s of p)r.stderr(`note: ${s.where}: ${s.text}
`);return 0}export{C as IAM_POLICY_USAGE,G as iamPolicyCommand};
