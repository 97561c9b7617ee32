import type { Logger } from '../jobs/logger.js';

/** An account `serve` tells how to sign in with; `password` only on the start that generated it. */
export interface SignInAccount {
  kind: 'operator' | 'org_admin';
  email: string;
  password: string | undefined;
  /** The command that sets a new password (read from standard input). */
  reset: string;
}

/** What `serve` tells once it is up: where it listens, who signs in, how to reset a password. */
export interface SignInSummary {
  url: string;
  database: string;
  operators: SignInAccount[];
  demo: { org: { name: string; domains: string[] }; admin: SignInAccount } | null;
}

/** How the reset commands are spelled: through npx, as the README runs every command. */
const CLI = 'npx entrasync';

export function operatorReset(email: string): string {
  return `${CLI} operator set-password --email ${email} --password-stdin`;
}

export function userReset(org: string, email: string): string {
  return `${CLI} users set-password --org ${org} --email ${email} --password-stdin`;
}

const RULE = '─'.repeat(72);

/**
 * The frame printed last by `serve`: the server's address, the sign-ins (the passwords generated on
 * this start, which nothing else will ever show), and how to reset each password — on every start,
 * so whoever missed the first one still learns how to get in.
 */
export function signInFrame(summary: SignInSummary): string {
  const lines = [RULE, `entrasync is listening on ${summary.url} (database: ${summary.database})`];
  const accounts = [...summary.operators, ...(summary.demo ? [summary.demo.admin] : [])];
  const shown = accounts.filter((a) => a.password !== undefined);
  for (const operator of summary.operators) {
    lines.push('');
    if (operator.password !== undefined) {
      lines.push(
        'First start: an operator account was created. Sign in with',
        `  address:  ${operator.email}`,
        `  password: ${operator.password}`,
      );
    } else {
      lines.push(`Operator: ${operator.email}`);
    }
  }
  if (summary.demo) {
    const { org, admin } = summary.demo;
    lines.push(
      '',
      `Demo: "${org.name}" is connected to a built-in emulated Entra tenant (${org.domains.join(', ')}).`,
    );
    if (admin.password !== undefined) {
      lines.push(
        'Sign in as its administrator with',
        `  address:  ${admin.email}`,
        `  password: ${admin.password}`,
      );
    } else {
      lines.push(`Its administrator is ${admin.email}.`);
    }
    lines.push('Then open Company Settings → Users & Groups → Azure Active Directory Sync and press Search.');
  }
  if (accounts.length > 0) {
    lines.push('');
    if (shown.length === accounts.length)
      lines.push(
        `${shown.length === 1 ? 'This password is' : 'These passwords are'} shown only now. To set a new one, pipe it to:`,
      );
    else if (shown.length > 0)
      lines.push(
        'A new password is shown only now; the others were shown on an earlier start. To set a new one, pipe it to:',
      );
    else lines.push('The passwords were shown on the first start. Forgot one? Pipe a new one to:');
    for (const account of accounts) lines.push(`  ${account.reset}`);
  }
  if (summary.demo) lines.push('Start without the demo: npm start -- --no-demo');
  lines.push(RULE);
  return `${lines.join('\n')}\n`;
}

/**
 * Tells the summary in the configured log format. `pretty`: the frame, last on stdout. `json`: one
 * structured log line with no password in it (a log line may be shipped to a log store); on the
 * start that generated a password, the frame too, as plain text on stderr — not a log record, and
 * not on stdout, whose lines stay JSON.
 */
export function printSignIn(summary: SignInSummary, format: 'pretty' | 'json', logger: Logger): void {
  if (format === 'pretty') {
    process.stdout.write(signInFrame(summary));
    return;
  }
  const account = (a: SignInAccount) => ({
    email: a.email,
    passwordShown: a.password !== undefined,
    reset: a.reset,
  });
  logger.info(
    {
      url: summary.url,
      database: summary.database,
      operators: summary.operators.map(account),
      ...(summary.demo
        ? {
            demo: {
              org: summary.demo.org.name,
              domains: summary.demo.org.domains,
              admin: account(summary.demo.admin),
            },
          }
        : {}),
    },
    `entrasync is listening on ${summary.url} (database: ${summary.database})`,
  );
  const accounts = [...summary.operators, ...(summary.demo ? [summary.demo.admin] : [])];
  if (accounts.some((a) => a.password !== undefined)) process.stderr.write(signInFrame(summary));
}
