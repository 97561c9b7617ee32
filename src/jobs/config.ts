import { invalid } from '../directory/errors.js';

/** Tuning of automatic syncs, from the environment (docs/operations.md lists every variable). */
export interface JobsConfig {
  /** How often a scheduler looks for due organizations. */
  schedulerIntervalSeconds: number;
  /** A job still active after this long is presumed dead (its worker killed) and retried. */
  jobTimeoutSeconds: number;
  /** Retries of a job whose handler threw or whose worker died (not of a sync that failed cleanly). */
  retryLimit: number;
  /** First retry delay; pg-boss doubles it each attempt. */
  retryDelaySeconds: number;
  /** How often one of the pg-boss instances expires timed-out jobs. */
  maintenanceIntervalSeconds: number;
  /** How often an idle worker polls for jobs. */
  pollIntervalSeconds: number;
  /** Syncs one worker process runs at once. */
  concurrency: number;
  /** SMTP URL for notification emails; unset: no email. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** The console's address as its users reach it (ENTRASYNC_PUBLIC_URL), for links in notifications. */
  publicUrl: string | undefined;
  /** The dev/test switch that also lets webhooks reach http:// and private addresses. */
  allowPrivateWebhooks: boolean;
  /** What `entrasync serve` plays besides the API: ENTRASYNC_SERVE_ROLES=scheduler (default), scheduler,worker, or none. */
  serveRoles: { scheduler: boolean; worker: boolean };
}

/**
 * The jobs part of the configuration; a bad value names its variable. Read by `loadConfig`
 * (src/config.ts) only, once at start, with the rest.
 */
export function readJobsConfig(env: NodeJS.ProcessEnv, allowCustomCloud: boolean): JobsConfig {
  return {
    schedulerIntervalSeconds: number(env, 'ENTRASYNC_SCHEDULER_INTERVAL_SECONDS', 60, 0.5),
    jobTimeoutSeconds: number(env, 'ENTRASYNC_JOB_TIMEOUT_SECONDS', 30 * 60, 1),
    retryLimit: number(env, 'ENTRASYNC_JOB_RETRY_LIMIT', 3, 0),
    retryDelaySeconds: number(env, 'ENTRASYNC_JOB_RETRY_DELAY_SECONDS', 30, 0),
    maintenanceIntervalSeconds: number(env, 'ENTRASYNC_MAINTENANCE_INTERVAL_SECONDS', 60, 1),
    pollIntervalSeconds: number(env, 'ENTRASYNC_WORKER_POLL_SECONDS', 2, 0.5),
    concurrency: number(env, 'ENTRASYNC_WORKER_CONCURRENCY', 1, 1),
    smtpUrl: env.SMTP_URL?.trim() || undefined,
    mailFrom: env.SMTP_FROM?.trim() || 'entrasync <entrasync@localhost>',
    publicUrl: parsePublicUrl(env.ENTRASYNC_PUBLIC_URL),
    // One switch for both outbound-URL risks (docs/security.md): custom Entra endpoints and private webhooks.
    allowPrivateWebhooks: allowCustomCloud,
    serveRoles: parseRoles(env.ENTRASYNC_SERVE_ROLES),
  };
}

function parseRoles(text: string | undefined): { scheduler: boolean; worker: boolean } {
  const words = (text?.trim() || 'scheduler').split(',').map((w) => w.trim());
  if (words.length === 1 && words[0] === 'none') return { scheduler: false, worker: false };
  const bad = words.find((w) => w !== 'scheduler' && w !== 'worker');
  if (bad !== undefined)
    throw invalid(
      'ENTRASYNC_SERVE_ROLES',
      `ENTRASYNC_SERVE_ROLES takes scheduler, worker (comma-separated) or none, not "${bad}".`,
    );
  return { scheduler: words.includes('scheduler'), worker: words.includes('worker') };
}

/** An http(s) origin, optionally with a path prefix (a console behind a proxy at /entrasync). */
function parsePublicUrl(text: string | undefined): string | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  const refuse = (why: string) =>
    invalid(
      'ENTRASYNC_PUBLIC_URL',
      `ENTRASYNC_PUBLIC_URL ${why}, not "${value}" (e.g. https://entrasync.example.com).`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse("must be the console's address");
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw refuse('must start with https:// or http://');
  if (url.username || url.password || url.search || url.hash)
    throw refuse('takes an address without user, password, query or fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min)
    throw invalid(name, `${name} must be a number ≥ ${min}, not "${text}".`);
  return value;
}
