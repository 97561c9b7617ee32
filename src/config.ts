import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { invalid } from './directory/errors.js';
import type { LogFormat } from './jobs/logger.js';
import { DEFAULT_LEASE_SECONDS } from './services/lease-heartbeat.js';
import type { StoreLocation } from './store/database.js';

/** Process configuration, from the environment (README.md, Configuration, lists every variable). */
export interface Config {
  store: StoreLocation;
  dataDir: string;
  port: number;
  host: string;
  /** Base64 or hex 32-byte key for client secrets; undefined → a key file in dataDir. */
  secretKey: string | undefined;
  /** Lets organizations use endpoints other than Microsoft's clouds (an SSRF risk: off by default). */
  allowCustomCloud: boolean;
  /**
   * Behind a reverse proxy: X-Forwarded-For names the client (per-IP sign-in limit) and
   * X-Forwarded-Proto says whether it came over https. Off by default, because any client could
   * send those headers to a server that is reached directly.
   */
  trustProxy: boolean;
  /** PEM files `serve` listens with on https; null → plain http. */
  tls: { certFile: string; keyFile: string } | null;
  /** How long a sync's lease outlives its last renewal: a killed sync frees its organization after this. */
  syncLeaseSeconds: number;
  /**
   * Name servers that domain proofs ask for TXT records (`host` or `host:port`, IPv4 or
   * bracketed IPv6); null → the system's resolvers (/etc/resolv.conf).
   */
  dnsServers: string[] | null;
  /** LOG_FORMAT: `pretty` (one readable line an event) or `json` (JSON lines); default by whether stdout is a terminal. */
  logFormat: LogFormat;
}

/** Reads and validates the configuration; a bad value names the variable and what it needs. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  terminal: boolean = Boolean(process.stdout.isTTY),
): Config {
  const dataDir = resolve(env.DATA_DIR || './data');
  const url = env.DATABASE_URL?.trim();
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw invalid('DATABASE_URL', 'DATABASE_URL must be a postgres:// URL (leave it unset for SQLite).');
  }
  return {
    store: url ? { postgresUrl: url } : { sqliteFile: resolve(dataDir, 'entrasync.db') },
    dataDir,
    port: parsePort(env.PORT ?? '3000', 'PORT'),
    host: env.HOST?.trim() || '127.0.0.1',
    secretKey: env.ENTRASYNC_SECRET_KEY?.trim() || undefined,
    allowCustomCloud: env.ENTRASYNC_ALLOW_CUSTOM_CLOUD === '1',
    trustProxy: parseSwitch(env.TRUST_PROXY, 'TRUST_PROXY'),
    tls: parseTls(env.TLS_CERT_FILE?.trim(), env.TLS_KEY_FILE?.trim()),
    syncLeaseSeconds: parseLeaseSeconds(env.ENTRASYNC_SYNC_LEASE_SECONDS),
    dnsServers: parseDnsServers(env.ENTRASYNC_DNS_SERVERS),
    logFormat: parseLogFormat(env.LOG_FORMAT, terminal),
  };
}

/** `pretty` or `json`; unset → pretty at a terminal, JSON lines for a pipe, a file or a log collector. */
export function parseLogFormat(input: string | undefined, terminal: boolean): LogFormat {
  const value = input?.trim().toLowerCase() ?? '';
  if (value === '') return terminal ? 'pretty' : 'json';
  if (value === 'pretty' || value === 'json') return value;
  throw invalid(
    'LOG_FORMAT',
    `LOG_FORMAT must be pretty or json (unset: pretty on a terminal, json otherwise), not "${input}".`,
  );
}

/** A comma-separated list of name servers by address: node's resolver takes addresses, not names. */
function parseDnsServers(input: string | undefined): string[] | null {
  const servers = (input ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) return null;
  for (const server of servers) {
    const match = /^(?:\[([0-9a-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/i.exec(server);
    const address = match?.[1] ?? match?.[2];
    const port = match?.[3] === undefined ? 53 : Number(match[3]);
    if (!address || isIP(address) === 0 || port < 1 || port > 65535)
      throw invalid(
        'ENTRASYNC_DNS_SERVERS',
        `ENTRASYNC_DNS_SERVERS holds "${server}", which is not a name server address: give IPs, e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53, separated by commas.`,
      );
  }
  return servers;
}

/** Seconds of a sync lease (docs/operations.md); renewed every quarter of it, so at least 1. */
function parseLeaseSeconds(input: string | undefined): number {
  const text = input?.trim();
  if (!text) return DEFAULT_LEASE_SECONDS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 1)
    throw invalid(
      'ENTRASYNC_SYNC_LEASE_SECONDS',
      `ENTRASYNC_SYNC_LEASE_SECONDS must be a number of seconds ≥ 1, not "${input}".`,
    );
  return seconds;
}

/** An on/off variable: unset, empty or `0` is off, `1` is on; anything else is a mistake worth saying. */
function parseSwitch(input: string | undefined, field: string): boolean {
  const value = input?.trim() ?? '';
  if (value === '' || value === '0') return false;
  if (value === '1') return true;
  throw invalid(field, `${field} must be 1 (on) or 0 (off), not "${input}".`);
}

/** A certificate without its key (or the reverse) is a half-done setup, not a reason to serve plain http. */
function parseTls(certFile: string | undefined, keyFile: string | undefined): Config['tls'] {
  if (!certFile && !keyFile) return null;
  if (!certFile)
    throw invalid(
      'TLS_CERT_FILE',
      'TLS_KEY_FILE is set but TLS_CERT_FILE is not: set both (or neither, for http).',
    );
  if (!keyFile)
    throw invalid(
      'TLS_KEY_FILE',
      'TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both (or neither, for http).',
    );
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

/** A TCP port number (0 = any free port). */
export function parsePort(input: string, field: string): number {
  const port = Number(input);
  if (!/^\d+$/.test(input.trim()) || port > 65535) {
    throw invalid(field, `${field} must be a port number from 0 to 65535, not "${input}".`);
  }
  return port;
}
