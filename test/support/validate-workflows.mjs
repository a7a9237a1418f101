// Validates GitHub workflow and action files with GitHub's own parser (@actions/workflow-parser),
// in a process of its own: the parser imports its JSON schemas without import attributes, which
// Node refuses, so a load hook serves `.json` as `export default …` (actions/languageservices#387).
//
//   node validate-workflows.mjs <file>…   prints { "<file>": ["<error>", …], … }
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function load(url, context, nextLoad) {
  if (url.endsWith('.json') && !context.importAttributes?.type) {
    const { readFile } = await import('node:fs/promises');
    return { format: 'module', source: 'export default ' + (await readFile(new URL(url), 'utf8')), shortCircuit: true };
  }
  return nextLoad(url, context);
}`)}`,
);

const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/index');

const out = {};
for (const path of process.argv.slice(2)) {
  const file = { name: path, content: await readFile(path, 'utf8') };
  const trace = new NoOperationTraceWriter();
  if (/(^|\/)action\.ya?ml$/.test(path)) {
    const parsed = parseAction(file, trace);
    out[path] = parsed.context.errors.getErrors().map((e) => e.message);
    continue;
  }
  const parsed = parseWorkflow(file, trace);
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  // The conversion checks what the schema cannot: job `needs`, matrix and expression contexts.
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) errors.push(e.Message ?? e.message ?? String(e));
  }
  out[path] = [...new Set(errors)];
}
process.stdout.write(JSON.stringify(out));
