import { resolve } from 'node:path';
import { invalid } from './directory/errors.js';
import type { StoreLocation } from './store/database.js';

/** Process configuration, from the environment (design.md §4). */
export interface Config {
  store: StoreLocation;
  dataDir: string;
  port: number;
  host: string;
  /** Base64 or hex 32-byte key for client secrets; undefined → a key file in dataDir. */
  secretKey: string | undefined;
  /** Lets organizations use endpoints other than Microsoft's clouds (an SSRF risk: off by default). */
  allowCustomCloud: boolean;
}

/** Reads and validates the configuration; a bad value names the variable and what it needs. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
  };
}

/** A TCP port number (0 = any free port). */
export function parsePort(input: string, field: string): number {
  const port = Number(input);
  if (!/^\d+$/.test(input.trim()) || port > 65535) {
    throw invalid(field, `${field} must be a port number from 0 to 65535, not "${input}".`);
  }
  return port;
}
