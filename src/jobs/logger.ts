import { type Logger, pino } from 'pino';

/**
 * Paths that could carry a secret anywhere in a log object; pino replaces them. The jobs code
 * never logs connections or settings, this is the second line of defence.
 */
const REDACT = [
  'clientSecret',
  '*.clientSecret',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'smtpUrl',
  '*.smtpUrl',
];

/** The structured (JSON lines) logger of scheduler and workers. */
export function jobsLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'entrasync-jobs',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
  });
}

export type { Logger };
