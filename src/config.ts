import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { invalid } from './directory/errors.js';
import { type JobsConfig, readJobsConfig } from './jobs/config.js';
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
  /** LOG_LEVEL: pino's level for `serve` and `worker`. */
  logLevel: LogLevel;
  /** `serve --demo` starts the demo tenant and organization unless ENTRASYNC_DEMO=0. */
  demo: boolean;
  /** Scheduler, workers and notifications. */
  jobs: JobsConfig;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Reads and validates the whole configuration, once at start; a bad value names the variable and
 * what it needs. Every variable it reads is in CONFIG_VARIABLES (a test holds the two together).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  terminal: boolean = Boolean(process.stdout.isTTY),
): Config {
  const dataDir = resolve(env.DATA_DIR || './data');
  const url = env.DATABASE_URL?.trim();
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw invalid('DATABASE_URL', 'DATABASE_URL must be a postgres:// URL (leave it unset for SQLite).');
  }
  const allowCustomCloud = parseSwitch(env.ENTRASYNC_ALLOW_CUSTOM_CLOUD, 'ENTRASYNC_ALLOW_CUSTOM_CLOUD');
  return {
    store: url ? { postgresUrl: url } : { sqliteFile: resolve(dataDir, 'entrasync.db') },
    dataDir,
    port: parsePort(env.PORT ?? '3000', 'PORT'),
    host: env.HOST?.trim() || '127.0.0.1',
    secretKey: env.ENTRASYNC_SECRET_KEY?.trim() || undefined,
    allowCustomCloud,
    trustProxy: parseSwitch(env.TRUST_PROXY, 'TRUST_PROXY'),
    tls: parseTls(env.TLS_CERT_FILE?.trim(), env.TLS_KEY_FILE?.trim()),
    syncLeaseSeconds: parseLeaseSeconds(env.ENTRASYNC_SYNC_LEASE_SECONDS),
    dnsServers: parseDnsServers(env.ENTRASYNC_DNS_SERVERS),
    logFormat: parseLogFormat(env.LOG_FORMAT, terminal),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    demo: parseSwitch(env.ENTRASYNC_DEMO, 'ENTRASYNC_DEMO', true),
    jobs: readJobsConfig(env, allowCustomCloud),
  };
}

function parseLogLevel(input: string | undefined): LogLevel {
  const value = input?.trim().toLowerCase() || 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw invalid('LOG_LEVEL', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${input}".`);
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

/** An on/off variable: `0` is off, `1` is on, unset or empty the default; anything else is a mistake worth saying. */
function parseSwitch(input: string | undefined, field: string, fallback = false): boolean {
  const value = input?.trim() ?? '';
  if (value === '') return fallback;
  if (value === '0') return false;
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

/**
 * Every environment variable the product reads — the one list README.md's Configuration table
 * is generated from (`npm run docs:config`; test/config.test.ts fails when the two differ, or when
 * `loadConfig` reads a variable not listed here). Markdown, as the table shows it.
 */
export const CONFIG_VARIABLES: readonly { names: readonly string[]; default: string; meaning: string }[] = [
  {
    names: ['DATABASE_URL'],
    default: 'unset → SQLite at `./data/entrasync.db`',
    meaning: '`postgres://user:pass@host/db` to use PostgreSQL',
  },
  {
    names: ['DATA_DIR'],
    default: '`./data`',
    meaning: "where the SQLite file, the secret key file and the demo's emulator CA live",
  },
  {
    names: ['PORT', 'HOST'],
    default: '`3000`, `127.0.0.1`',
    meaning: 'where `entrasync serve` listens',
  },
  {
    names: ['ENTRASYNC_SECRET_KEY'],
    default: 'unset → `DATA_DIR/secret.key` (created, mode 0600)',
    meaning:
      '32 bytes (hex or base64) sealing stored client secrets with AES-256-GCM; **all machines sharing a PostgreSQL database must set the same key**',
  },
  {
    names: ['ENTRASYNC_ALLOW_CUSTOM_CLOUD'],
    default: 'off',
    meaning:
      '`1` lets organizations set custom token/Graph endpoints, and http or private-address notification webhooks, through the API (the CLI always may). Off by default: outbound URLs chosen by a tenant are a request-forgery risk',
  },
  {
    names: ['ENTRASYNC_DEMO'],
    default: 'unset',
    meaning:
      '`0` starts `serve --demo` (as `npm start` does) without the demo tenant and organization; `1` or unset: with them',
  },
  {
    names: ['LOG_LEVEL'],
    default: '`info`',
    meaning:
      'pino log level of `serve` and `worker`: `fatal`, `error`, `warn`, `info`, `debug` (each request is logged at `debug`), `trace` or `silent`',
  },
  {
    names: ['LOG_FORMAT'],
    default: '`pretty` when stdout is a terminal, else `json`',
    meaning:
      '`pretty`: one readable line an event (time, level, message, fields); `json`: JSON lines for a log store. Secrets are redacted in both; anything else stops every command (exit 2)',
  },
  {
    names: ['TLS_CERT_FILE', 'TLS_KEY_FILE'],
    default: 'unset → http',
    meaning:
      'PEM certificate (chain) and key: `serve` listens on https, the session cookie is `Secure` and HSTS is sent. Both or neither; an unreadable or mismatched pair stops `serve` (exit 2)',
  },
  {
    names: ['TRUST_PROXY'],
    default: '`0`',
    meaning:
      '`1` behind a reverse proxy: `X-Forwarded-For` is the client address the per-IP sign-in limit counts, `X-Forwarded-Proto: https` makes the cookie `Secure` and sends HSTS. Leave off when clients reach `serve` directly — they could forge those headers ([docs/security.md](docs/security.md))',
  },
  {
    names: ['ENTRASYNC_SERVE_ROLES'],
    default: '`scheduler`',
    meaning: 'what `serve` runs besides the API: `scheduler`, `worker` (comma-separated) or `none`',
  },
  {
    names: ['ENTRASYNC_SCHEDULER_INTERVAL_SECONDS'],
    default: '`60`',
    meaning: 'how often a scheduler looks for organizations due an automatic sync',
  },
  {
    names: ['ENTRASYNC_WORKER_CONCURRENCY'],
    default: '`1`',
    meaning: 'automatic syncs one process runs at once (`worker --concurrency` overrides it)',
  },
  {
    names: ['ENTRASYNC_WORKER_POLL_SECONDS'],
    default: '`2`',
    meaning: 'how often an idle worker polls the queue (PostgreSQL)',
  },
  {
    names: ['ENTRASYNC_JOB_TIMEOUT_SECONDS'],
    default: '`1800`',
    meaning: 'a sync job still running after this long is presumed dead (its worker killed) and retried',
  },
  {
    names: ['ENTRASYNC_JOB_RETRY_LIMIT', 'ENTRASYNC_JOB_RETRY_DELAY_SECONDS'],
    default: '`3`, `30`',
    meaning: 'retries of a job whose worker died or crashed, first delay doubling',
  },
  {
    names: ['ENTRASYNC_MAINTENANCE_INTERVAL_SECONDS'],
    default: '`60`',
    meaning: 'how often the queue expires dead jobs (PostgreSQL)',
  },
  {
    names: ['ENTRASYNC_DNS_SERVERS'],
    default: "unset → the system's resolvers",
    meaning:
      'name servers (`IP` or `IP:port`, comma-separated) asked for the TXT records that prove a domain',
  },
  {
    names: ['ENTRASYNC_SYNC_LEASE_SECONDS'],
    default: '`60`',
    meaning:
      "a running sync renews its organization's lease every quarter of this; a sync killed mid-run (CLI, `serve`, worker) frees its organization this long after its last renewal, and its run is closed as failed (`worker_lost`) ([docs/operations.md](docs/operations.md#crashes))",
  },
  {
    names: ['SMTP_URL', 'SMTP_FROM'],
    default: 'unset, `entrasync <entrasync@localhost>`',
    meaning:
      '`smtp://user:pass@host:587` (or `smtps://…`) to email notifications to organization admins; unset: no email',
  },
  {
    names: ['ENTRASYNC_PUBLIC_URL'],
    default: 'unset',
    meaning:
      "the console's address as its users reach it (`https://entrasync.example.com`, a path prefix allowed): notification emails and webhooks then link to the run or page to act on; unset, emails name the page. Not an http(s) address without query: every command stops (exit 2)",
  },
];

/** README.md's Configuration table, from CONFIG_VARIABLES. */
export function configTable(): string {
  const rows = CONFIG_VARIABLES.map(
    (v) => `| ${v.names.map((n) => `\`${n}\``).join(', ')} | ${v.default} | ${v.meaning} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
