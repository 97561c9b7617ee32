import { describe, expect, it } from 'vitest';
import { isPrivateAddress, parseWebhookUrl } from '../../src/jobs/webhook.js';

describe('webhook address filter', () => {
  it.each([
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:a00:1::1', '6to4 of 10.0.0.1'],
    ['::10.0.0.1', 'IPv4-compatible'],
    ['::8.8.8.8', 'IPv4-compatible, even of a public address'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['fec0::1', 'site-local'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['100::1', 'discard-only'],
    ['2001::1', 'Teredo'],
    ['2001:2::1', 'benchmarking'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation (2024)'],
    ['5f00::1', 'SRv6 SIDs'],
    ['2620:4f:8000::1', 'AS112'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['192.0.2.10', 'TEST-NET-1'],
    ['198.51.100.10', 'TEST-NET-2'],
    ['203.0.113.10', 'TEST-NET-3'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.31.196.1', 'AS112-v4'],
    ['192.52.193.1', 'AMT'],
    ['192.175.48.1', 'AS112 direct delegation'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['100.64.0.1', 'CGNAT'],
    ['169.254.169.254', 'cloud metadata'],
  ])('refuses %s (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
    const literal = address.includes(':') ? `[${address}]` : address;
    expect(() => parseWebhookUrl(`https://${literal}/hook`, false)).toThrow(/private or loopback/);
  });

  it.each(['8.8.8.8', '1.1.1.1', '::ffff:8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4001::200e'])(
    'accepts the public address %s',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
      const literal = address.includes(':') ? `[${address}]` : address;
      expect(parseWebhookUrl(`https://${literal}/hook`, false)).toMatch(/^https:/);
    },
  );
});
