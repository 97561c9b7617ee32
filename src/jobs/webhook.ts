import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import { invalid } from '../directory/errors.js';

/**
 * Addresses a tenant-chosen webhook must never reach: loopback, private, link-local (cloud
 * metadata), CGNAT, and every other entry of IANA's special-purpose address registries —
 * https://www.iana.org/assignments/iana-ipv4-special-registry and
 * https://www.iana.org/assignments/iana-ipv6-special-registry (RFC 6890) — since none is an
 * ordinary host on the public internet, and several (NAT64, 6to4, Teredo) embed an IPv4 address
 * that would reach a private network through a translator.
 */
const SPECIAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network" (RFC 791)
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback (RFC 1122)
  ['169.254.0.0', 16], // link-local, cloud metadata (RFC 3927)
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments (RFC 6890)
  ['192.0.2.0', 24], // documentation, TEST-NET-1 (RFC 5737)
  ['192.31.196.0', 24], // AS112-v4 (RFC 7535)
  ['192.52.193.0', 24], // AMT (RFC 7450)
  ['192.88.99.0', 24], // 6to4 relay anycast (RFC 7526)
  ['192.168.0.0', 16], // private (RFC 1918)
  ['192.175.48.0', 24], // direct delegation AS112 service (RFC 7534)
  ['198.18.0.0', 15], // benchmarking (RFC 2544)
  ['198.51.100.0', 24], // documentation, TEST-NET-2 (RFC 5737)
  ['203.0.113.0', 24], // documentation, TEST-NET-3 (RFC 5737)
  ['224.0.0.0', 3], // multicast (RFC 5771), reserved 240/4 (RFC 1112), broadcast 255.255.255.255 (RFC 919)
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv4');

/**
 * Public IPv6 unicast is 2000::/3 (RFC 4291, IANA's IPv6 address space); everything outside it is
 * unassigned or special: ::/128, ::1, IPv4-compatible ::a.b.c.d (::/96, RFC 4291), IPv4-mapped
 * and -translated (::ffff:0:0/96, RFC 4291; ::ffff:0:0:0/96, RFC 2765), NAT64 64:ff9b::/96
 * (RFC 6052) and 64:ff9b:1::/48 (RFC 8215), discard-only 100::/64 (RFC 6666), dummy prefix
 * 100:0:0:1::/64 (RFC 9780), SRv6 SIDs 5f00::/16 (RFC 9602), unique-local fc00::/7 (RFC 4193),
 * link-local fe80::/10, site-local fec0::/10 (RFC 3879), multicast ff00::/8.
 */
const IPV6_GLOBAL = new BlockList();
IPV6_GLOBAL.addSubnet('2000::', 3, 'ipv6');
// …and inside 2000::/3, the registry's special-purpose blocks.
for (const [net, prefix] of [
  ['2001::', 23], // IETF protocol assignments: Teredo 2001::/32, benchmarking, AMT, AS112, ORCHID, DETs (RFC 2928)
  ['2001:db8::', 32], // documentation (RFC 3849)
  ['2002::', 16], // 6to4 (RFC 3056)
  ['2620:4f:8000::', 48], // direct delegation AS112 service (RFC 7534)
  ['3fff::', 20], // documentation (RFC 9637)
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv6');

/** True when an address is loopback, private, link-local or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  // An IPv4 address written as IPv6 is judged as the IPv4 address it reaches.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  // …also in the hex form URLs normalize it to (::ffff:808:808).
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const [high, low] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
    return isPrivateAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return SPECIAL.check(address, 'ipv4');
  return !IPV6_GLOBAL.check(address, 'ipv6') || SPECIAL.check(address, 'ipv6');
}

/**
 * Validates a webhook URL an organization admin entered. Only https, unless the server runs
 * with ENTRASYNC_ALLOW_CUSTOM_CLOUD=1 (development, tests); a literal private address is refused
 * here, a name that resolves to one is refused when sending.
 */
export function parseWebhookUrl(input: string | null, allowPrivate: boolean): string | null {
  if (input === null || input.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw invalid('webhookUrl', `"${input}" is not a URL: give an https:// address.`);
  }
  if (url.username || url.password)
    throw invalid('webhookUrl', 'The webhook URL must not contain credentials.');
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw invalid('webhookUrl', 'The webhook URL must use https.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (
    !allowPrivate &&
    (isIP(host) ? isPrivateAddress(host) : host === 'localhost' || host.endsWith('.localhost'))
  )
    throw invalid(
      'webhookUrl',
      'The webhook URL points at a private or loopback address, which is not allowed.',
    );
  return url.toString();
}

/** The signature header value: HMAC-SHA256 of `${timestamp}.${body}`, so a replayed body with a new timestamp fails. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Resolves like dns.lookup but fails for private addresses: checked at connect time, so DNS rebinding cannot slip past. */
function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) {
      const error: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to ${blocked.address}, a private address: webhooks may only reach the public internet.`,
      );
      error.code = 'EPRIVATE';
      return callback(error, []);
    }
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
}

const publicAgent = new Agent({ connect: { lookup: publicOnlyLookup as never, timeout: 10_000 } });
const anyAgent = new Agent({ connect: { timeout: 10_000 } });

/** Posts a signed JSON body; throws with a sentence when the receiver is unreachable or answers non-2xx. */
export async function postWebhook(
  url: string,
  payload: unknown,
  secret: string | null,
  allowPrivate: boolean,
  now: Date,
): Promise<void> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // A literal IP is connected to without any lookup, so it is checked here.
  if (!allowPrivate && isIP(host) && isPrivateAddress(host))
    throw new Error(`${host} is a private address: webhooks may only reach the public internet.`);
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'entrasync-webhook/1',
    'x-entrasync-timestamp': timestamp,
  };
  if (secret) headers['x-entrasync-signature'] = signWebhook(secret, timestamp, body);
  const response = await request(url, {
    method: 'POST',
    headers,
    body,
    dispatcher: allowPrivate ? anyAgent : publicAgent,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  } as Parameters<typeof request>[1]);
  await response.body.dump();
  if (response.statusCode < 200 || response.statusCode >= 300)
    throw new Error(`The webhook answered HTTP ${response.statusCode}.`);
}
