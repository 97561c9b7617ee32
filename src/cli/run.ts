import { type Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config.js';
import { AppError } from '../directory/errors.js';
import { hasControlCharacter } from '../directory/text.js';
import { GraphError } from '../graph/index.js';
import { type App, openApp } from '../services/app.js';

/** Exit codes of every command: 0 success, 2 bad input, 1 any other failure, 130 stopped by Ctrl-C. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

/**
 * Thrown by a command once it has printed a result that itself reports a failure — a connection
 * test that found the connection broken, a sync run that failed or was held: the process exits 1
 * and prints nothing more, since the result already says what went wrong.
 */
export class FailureReported extends Error {
  constructor(
    what: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(what);
    this.name = 'FailureReported';
  }
}

/** Statuses of a sync run that mean it did not do what was asked (cron jobs exit 1 on them). */
const FAILED_RUN_STATUSES: ReadonlySet<string> = new Set(['failed', 'held']);

/** Throws FailureReported when a printed run did not apply. */
export function failUnlessApplied(run: { runId: string; status: string }): void {
  if (FAILED_RUN_STATUSES.has(run.status)) throw new FailureReported(`run ${run.runId} ${run.status}`);
}

/** What a command prints: JSON for --json, and text for people otherwise. */
export interface Output {
  json: boolean;
  /** Prints the result: `data` as JSON, or `text()` for people. */
  result(data: unknown, text: () => string): void;
  /** A progress or status line for people (stderr, so --json stdout stays clean). */
  info(line: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    result(data, text) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
    },
    info(line) {
      if (!json || process.stderr.isTTY) process.stderr.write(`${line}\n`);
    },
  };
}

/** Adds a sub-command that takes --json and runs with an open App and an Output. */
export function appCommand<Opts>(
  parent: Command,
  nameAndArgs: string,
  description: string,
  configure: (c: Command) => Command,
  action: (ctx: { app: App; out: Output; opts: Opts; args: string[] }) => Promise<void>,
): Command {
  const command = parent.command(nameAndArgs).description(description);
  configure(command).addOption(new Option('--json', 'print machine-readable JSON'));
  command.action(async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const opts = cmd.opts() as Opts & { json?: boolean };
    const out = makeOutput(Boolean(opts.json));
    const app = await openApp(loadConfig());
    try {
      await action({ app, out, opts, args: cmd.args });
    } finally {
      await app.close();
    }
  });
  return command;
}

/** Collects a repeatable option (`--domain a --domain b`) into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Runs the program and turns every failure into one line and the right exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  program.exitOverride();
  program.configureOutput({ writeErr: () => {} });
  for (const c of allCommands(program)) {
    c.exitOverride();
    c.configureOutput({ writeErr: () => {} });
  }
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    return reportError(error, json);
  }
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

function reportError(error: unknown, json: boolean): number {
  if (error instanceof FailureReported) return error.exitCode;
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help' || error.exitCode === 0) return EXIT.ok;
    const message = `${error.message.replace(/^error: /, '')} (see --help)`;
    printError(json, 'invalid_input', message);
    return EXIT.badInput;
  }
  if (error instanceof AppError) {
    const named = (field: string | undefined, message: string) =>
      field && !namesField(message, field) ? `${field}: ${message}` : message;
    // Every field's refusal, each on its own line.
    const lines = error.fields
      ? error.fields.map((f) => named(f.field, f.message))
      : [named(error.field, error.message)];
    printError(json, error.code, lines, error.field, error.fields);
    return error.isInputError ? EXIT.badInput : EXIT.failure;
  }
  if (error instanceof GraphError) {
    printError(json, error.code, `${error.detail || error.message} ${error.hint}`.trim());
    return EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  printError(json, 'internal', message);
  return EXIT.failure;
}

/** True when the message begins by naming its field (`--name holds …`): not named twice. */
function namesField(message: string, field: string): boolean {
  return message.startsWith(`--${field} `) || message.startsWith(`${field} `);
}

/** `message` is one line, or (a form's refusals) one line per field. */
function printError(
  json: boolean,
  code: string,
  message: string | string[],
  field?: string,
  fields?: AppError['fields'],
): void {
  const lines = typeof message === 'string' ? [message] : message;
  if (json)
    process.stdout.write(`${JSON.stringify({ error: { code, message: lines[0], field, fields } })}\n`);
  for (const line of lines) process.stderr.write(`entrasync: ${printable(line)}\n`);
}

/**
 * The message with its control characters written as `\u0001`, as JSON writes them: a refusal
 * may quote what was typed (commander's "unknown option '…'"), and a terminal must not act on it.
 */
function printable(message: string): string {
  return Array.from(message, (c) =>
    hasControlCharacter(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
  ).join('');
}

/** Formats rows as an aligned text table. */
export function table<T extends object>(rows: T[], columns: (keyof T & string)[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}
