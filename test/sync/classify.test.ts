import { describe, expect, it } from 'vitest';
import { classifyGroup, readAddresses } from '../../src/sync/classify.js';
import { srcGroup } from './fixtures.js';

describe('readAddresses', () => {
  const cases: [string, string[], string | null, { primary: string | null; aliases: string[] }][] = [
    [
      'SMTP: is primary, smtp: aliases',
      ['smtp:b@x.com', 'SMTP:a@x.com'],
      null,
      { primary: 'a@x.com', aliases: ['b@x.com'] },
    ],
    [
      'other types are not addresses',
      ['X500:/o=x', 'SIP:a@x.com', 'SPO:1@2', 'EUM:1;c', 'x400:c=us'],
      'a@x.com',
      { primary: 'a@x.com', aliases: [] },
    ],
    [
      'mail is the fallback primary',
      ['smtp:b@x.com'],
      'a@x.com',
      { primary: 'a@x.com', aliases: ['b@x.com'] },
    ],
    ['no address at all', [], null, { primary: null, aliases: [] }],
    ['blank mail is no address', [], '  ', { primary: null, aliases: [] }],
    [
      'whitespace around the address is trimmed',
      ['SMTP: a@x.com '],
      null,
      { primary: 'a@x.com', aliases: [] },
    ],
    [
      'mixed-case prefix Smtp: is an alias',
      ['Smtp:b@x.com', 'SMTP:a@x.com'],
      null,
      { primary: 'a@x.com', aliases: ['b@x.com'] },
    ],
    [
      'entries without a type are ignored',
      ['a@x.com', 'SMTP:b@x.com'],
      null,
      { primary: 'b@x.com', aliases: [] },
    ],
    [
      'two SMTP: entries: the one equal to mail wins',
      ['SMTP:z@x.com', 'SMTP:a@x.com'],
      'Z@x.com',
      { primary: 'z@x.com', aliases: ['a@x.com'] },
    ],
    [
      'two SMTP: entries, no mail: the smallest wins',
      ['SMTP:z@x.com', 'SMTP:a@x.com'],
      null,
      { primary: 'a@x.com', aliases: ['z@x.com'] },
    ],
  ];
  for (const [name, proxies, mail, expected] of cases) {
    it(name, () => expect(readAddresses(proxies, mail)).toEqual(expected));
  }
});

describe('classifyGroup', () => {
  const cases = [
    [{ groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false }, 'distribution'],
    [
      { groupTypes: ['unified', 'DynamicMembership'], mailEnabled: true, securityEnabled: true },
      'distribution',
    ],
    [{ groupTypes: [], mailEnabled: true, securityEnabled: false }, 'distribution'],
    [{ groupTypes: [], mailEnabled: true, securityEnabled: true }, 'security'],
    [{ groupTypes: [], mailEnabled: false, securityEnabled: true }, 'security'],
    [{ groupTypes: ['DynamicMembership'], mailEnabled: false, securityEnabled: true }, 'security'],
    [{ groupTypes: [], mailEnabled: false, securityEnabled: false }, null],
  ] as const;
  for (const [g, kind] of cases) {
    it(`${JSON.stringify(g)} → ${kind}`, () => {
      expect(classifyGroup(srcGroup('x', { ...g, groupTypes: [...g.groupTypes] }))).toBe(kind);
    });
  }
});
