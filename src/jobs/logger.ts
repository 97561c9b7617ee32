import { type DestinationStream, type Logger, pino } from 'pino';
import PinoPretty from 'pino-pretty';

/**
 * Paths that could carry a secret anywhere in a log object; pino replaces them. The jobs code
 * never logs connections or settings, this is the second line of defence. Applied before a line is
 * written, so in both formats: the pretty printer only ever sees the redacted record.
 */
export const REDACT = [
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

/**
 * How log lines look (LOG_FORMAT): `json` — one JSON object a line, for a log store; `pretty` —
 * one readable line an event (time, level, message, its fields), for a person at a terminal.
 */
export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Default `json`: `serve` and `worker` pass the configured LOG_FORMAT. */
  format?: LogFormat;
}

/**
 * The pretty printer runs in this thread and writes synchronously, so its lines reach the
 * terminal in the order they were logged, and before whatever the process prints after them
 * (the sign-in frame of `serve` comes last).
 */
function prettyStream(): DestinationStream {
  return PinoPretty({
    sync: true,
    destination: 1,
    colorize: Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
}

/** A pino logger with the secrets redacted, writing JSON lines or pretty lines to stdout. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    name: options.name,
    // The level comes from the configuration (LOG_LEVEL, read once by loadConfig) through the caller.
    level: options.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.format === 'pretty' ? pino(settings, prettyStream()) : pino(settings);
}

/** The logger of scheduler and workers (JSON lines unless told `pretty`). */
export function jobsLogger(options: LoggerOptions = {}): Logger {
  return createLogger({ ...options, name: options.name ?? 'entrasync-jobs' });
}

export type { Logger };
