import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import { invalid } from '../directory/errors.js';

/** Addresses a tenant-chosen webhook must never reach: loopback, private, link-local (cloud metadata), CGNAT… */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** True when an address is loopback, private, link-local or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
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
