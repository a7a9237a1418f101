import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as YAML from 'yaml';

/**
 * CloudFormation's short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`, …) as plain objects, so a
 * SAM template parses and its references can be checked.
 */
const CFN_FUNCTIONS = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'GetAZs',
  'FindInMap',
  'ImportValue',
  'Base64',
  'Condition',
];
const cfnTags: YAML.Tags = CFN_FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }) },
    {
      tag: `!${name}`,
      collection: 'seq' as const,
      resolve: (seq: YAML.YAMLSeq) => ({ [key]: seq.toJSON() }),
    },
    {
      tag: `!${name}`,
      collection: 'map' as const,
      resolve: (map: YAML.YAMLMap) => ({ [key]: map.toJSON() }),
    },
  ] as YAML.Tags;
});

export function parseTemplate(text: string): Record<string, unknown> {
  return YAML.parse(text, { customTags: cfnTags }) as Record<string, unknown>;
}

/**
 * One cfn-lint process over `files` (its start-up, loading every resource spec, is most of its
 * time: lint everything in one call). Parseable output: one line per finding, starting with the file.
 */
export async function cfnLint(files: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('cfn-lint', ['--format', 'parseable', '--', ...files], {
      timeout: 120_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('cfn-lint is not installed (pip install cfn-lint)');
    if (typeof e.code !== 'number') throw error; // killed
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

type Node = Record<string, unknown>;

/** The fleet's ASL with DefinitionSubstitutions filled in as CloudFormation would (ARNs of the right shape). */
export function substitutedFleetDefinition(aslText: string): Node {
  const values: Record<string, string> = {
    PlanFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-PlanFunction-a1',
    RenewFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-RenewFunction-b2',
    ReportFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-ReportFunction-c3',
    MaxConcurrency: '4',
  };
  return JSON.parse(aslText.replace(/\$\{(\w+)\}/g, (m, k: string) => values[k] ?? m)) as Node;
}

/**
 * A plain template holding `definition` inline in an AWS::StepFunctions::StateMachine, where
 * cfn-lint checks it against the States Language schema (it cannot follow a SAM DefinitionUri).
 */
export function standaloneStateMachine(definition: Node): string {
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Fleet: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          RoleArn: 'arn:aws:iam::123456789012:role/fleet',
          StateMachineType: 'STANDARD',
          Definition: definition,
        },
      },
    },
  });
}
