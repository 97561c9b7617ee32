/**
 * `npx tsx tools/trim-csdl.ts <full CSDL> [out]`: keeps, of Microsoft Graph's v1.0 metadata
 * (msgraph-metadata's `schemas/v1.0-Prod.csdl`, MIT, 3.4 MB), only the types the emulator serves and its
 * tests check — so the repository holds what they rely on.
 * Each kept element is copied byte for byte; the header says where it came from.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** Entity types served (with their base types), and the mailbox settings the emulator answers. */
const ENTITY_TYPES = [
  'entity',
  'directoryObject',
  'user',
  'group',
  'orgContact',
  'device',
  'servicePrincipal',
  'domain',
];
const COMPLEX_TYPES = ['mailboxSettings'];
const ENUM_TYPES = ['userPurpose'];

const [source, out = 'test/emulator/graph-v1.0-directory.csdl'] = process.argv.slice(2);
if (!source) {
  process.stderr.write('usage: tsx tools/trim-csdl.ts <full graph v1.0 CSDL> [out]\n');
  process.exit(2);
}
const xml = readFileSync(source, 'utf8');
const element = (tag: string, name: string): string => {
  const m = new RegExp(`\\n( *)<${tag} Name="${name}"[ >][\\s\\S]*?</${tag}>`).exec(xml);
  if (!m) throw new Error(`${tag} ${name} is not in ${source}`);
  return m[0].slice(1);
};
const kept = [
  ...ENUM_TYPES.map((n) => element('EnumType', n)),
  ...ENTITY_TYPES.map((n) => element('EntityType', n)),
  ...COMPLEX_TYPES.map((n) => element('ComplexType', n)),
];
const sha256 = createHash('sha256').update(xml).digest('hex');
writeFileSync(
  out,
  `<?xml version="1.0" encoding="utf-8"?>
<!--
  Microsoft Graph v1.0 metadata, trimmed to the types the emulator serves and its tests check:
  ${[...ENUM_TYPES, ...ENTITY_TYPES, ...COMPLEX_TYPES].join(', ')}.
  Source: microsoftgraph/msgraph-metadata (MIT), schemas/v1.0-Prod.csdl,
  ${Buffer.byteLength(xml)} bytes, sha256 ${sha256}.
  Regenerate: npx tsx tools/trim-csdl.ts <full CSDL> (docs/emulator.md, Maintenance).
-->
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
${kept.join('\n')}
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`,
);
process.stdout.write(`${out}: ${kept.length} types kept of ${source}\n`);
