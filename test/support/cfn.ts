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
