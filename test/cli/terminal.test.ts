import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entrasync } from '../support/cli.js';
import { cliArgs } from '../support/cli-build.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'entrasync-terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The frame's top and bottom rule (src/cli/sign-in.ts). */
const RULE = '─'.repeat(72);
const OPERATOR_RESET = 'entrasync operator set-password --email admin@entrasync.local --password-stdin';
const ADMIN_RESET =
  'entrasync users set-password --org contoso.com --email admin@contoso.com --password-stdin';
const PASSWORDS = /password:\s+(\S+)/g;

/** `entrasync serve --demo` in a child process, over pipes (no TTY: the format is LOG_FORMAT's). */
class Serve {
  stdout = '';
  stderr = '';
  private readonly child: ChildProcess;
  private exited = false;

  constructor(dataDir: string, logFormat: string) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      LOG_FORMAT: logFormat,
      LOG_LEVEL: 'info',
    };
    delete env.ENTRASYNC_DEMO;
    delete env.PORT;
    delete env.ENTRASYNC_SERVE_ROLES;
    this.child = spawn(process.execPath, cliArgs(['serve', '--demo', '--port', '0']), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d) => {
      this.stdout += d;
    });
    this.child.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    this.child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Waits until `ready` holds of the output so far; fails if the process exits first. */
  async until(ready: (s: Serve) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (!ready(this)) {
      if (this.exited || Date.now() > deadline)
        throw new Error(`serve: no ${what}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get url(): string {
    return /listening on (http:\/\/[^\s"]+)/.exec(`${this.stdout}${this.stderr}`)?.[1] ?? '';
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const framed = (text: string) => text.trimEnd().endsWith(RULE) && text.split(RULE).length === 3;

/** Every non-empty line of stdout as JSON; throws naming the first line that is not. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
}

describe('serve in the terminal: pretty lines, the sign-in frame last, reset hints on every start', () => {
  it('LOG_FORMAT=pretty: readable lines, no request lines at info, the frame last with passwords and reset commands; then a JSON second start without any', async () => {
    const dataDir = join(dir, 'pretty-first');
    const first = new Serve(dataDir, 'pretty');
    let passwords: string[] = [];
    try {
      await first.until((s) => framed(s.stdout), 'frame on stdout');
      // API calls after start-up: logged at debug only, so nothing follows the frame at info.
      await fetch(`${first.url}/healthz`);
      await fetch(`${first.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@contoso.com', password: 'not the password' }),
      });
      await new Promise((r) => setTimeout(r, 500));
      const out = first.stdout;
      expect(out.trimEnd().endsWith(RULE), out).toBe(true);
      const [logs, frame] = [out.slice(0, out.indexOf(RULE)), out.slice(out.indexOf(RULE))];
      // One readable line an event: time, level, message — no JSON records.
      expect(logs).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: Server listening at http:\/\/127\.0\.0\.1:\d+$/m);
      expect(logs).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: jobs started \(in-process\)/m);
      expect(logs).not.toMatch(/"level":/);
      expect(out).not.toMatch(/incoming request|request completed|Route .* not found/);
      expect(frame).toMatch(/entrasync is listening on http:\/\/127\.0\.0\.1:\d+ \(database: sqlite\)/);
      expect(frame).toMatch(
        /an operator account was created\. Sign in with\n\s+address:\s+admin@entrasync\.local\n\s+password:\s+\S+/,
      );
      // The e2e demo test reads the demo admin's sign-in with this pattern.
      expect(frame).toMatch(
        /Sign in as its administrator with\n\s+address:\s+admin@contoso\.com\n\s+password:\s+\S+/,
      );
      expect(frame).toMatch(/shown only now/);
      expect(frame).toContain(OPERATOR_RESET);
      expect(frame).toContain(ADMIN_RESET);
      passwords = [...frame.matchAll(PASSWORDS)].map((m) => m[1]!);
      expect(passwords).toHaveLength(2);
      expect(first.stderr).toBe('');
    } finally {
      await first.stop();
    }

    const again = new Serve(dataDir, 'json');
    try {
      await again.until((s) => s.stdout.includes('entrasync is listening on'), 'listening record');
      await new Promise((r) => setTimeout(r, 300));
      const records = jsonLines(again.stdout);
      const listening = records.find((r) => String(r.msg).startsWith('entrasync is listening on'));
      expect(listening).toMatchObject({
        level: 30,
        database: 'sqlite',
        operators: [{ email: 'admin@entrasync.local', passwordShown: false }],
        demo: { admin: { email: 'admin@contoso.com', passwordShown: false } },
      });
      expect(JSON.stringify(listening)).toContain(OPERATOR_RESET);
      expect(JSON.stringify(listening)).toContain(ADMIN_RESET);
      // No password was generated on this start: nothing on stderr, and the old ones nowhere.
      expect(again.stderr).toBe('');
      for (const password of passwords) expect(again.stdout).not.toContain(password);
    } finally {
      await again.stop();
    }
  }, 240_000);

  it('LOG_FORMAT=json: stdout is JSON lines without a password, the first start’s frame is plain text on stderr; a pretty second start shows the reset hints and no password', async () => {
    const dataDir = join(dir, 'json-first');
    const first = new Serve(dataDir, 'json');
    let passwords: string[] = [];
    try {
      await first.until(
        (s) => framed(s.stderr) && s.stdout.includes('entrasync is listening on'),
        'frame on stderr and listening record',
      );
      await fetch(`${first.url}/healthz`);
      await new Promise((r) => setTimeout(r, 300));
      const records = jsonLines(first.stdout);
      expect(records.length).toBeGreaterThanOrEqual(3);
      passwords = [...first.stderr.matchAll(PASSWORDS)].map((m) => m[1]!);
      expect(passwords).toHaveLength(2);
      for (const password of passwords) expect(first.stdout).not.toContain(password);
      const listening = records.find((r) => String(r.msg).startsWith('entrasync is listening on'));
      expect(listening).toMatchObject({
        operators: [
          {
            email: 'admin@entrasync.local',
            passwordShown: true,
            reset: expect.stringContaining(OPERATOR_RESET),
          },
        ],
        demo: {
          admin: {
            email: 'admin@contoso.com',
            passwordShown: true,
            reset: expect.stringContaining(ADMIN_RESET),
          },
        },
      });
      expect(first.stderr).toContain(OPERATOR_RESET);
      expect(first.stderr).toContain(ADMIN_RESET);
      expect(records.some((r) => r.msg === 'incoming request' || r.msg === 'request completed')).toBe(false);
    } finally {
      await first.stop();
    }

    const again = new Serve(dataDir, 'pretty');
    try {
      await again.until((s) => framed(s.stdout), 'frame on stdout');
      const frame = again.stdout.slice(again.stdout.indexOf(RULE));
      expect(frame).toMatch(/The passwords were shown on the first start/);
      expect(frame).toContain(OPERATOR_RESET);
      expect(frame).toContain(ADMIN_RESET);
      expect(frame).toMatch(/Operator: admin@entrasync\.local/);
      expect(frame).toMatch(/Its administrator is admin@contoso\.com\./);
      expect(again.stdout).not.toMatch(/password:/);
      for (const password of passwords) expect(again.stdout + again.stderr).not.toContain(password);
    } finally {
      await again.stop();
    }
  }, 240_000);

  it('LOG_FORMAT=bogus exits 2 naming the variable, before opening anything', async () => {
    const never = join(dir, 'never');
    const result = await entrasync(['serve', '--no-demo', '--port', '0'], {
      DATA_DIR: never,
      DATABASE_URL: '',
      LOG_FORMAT: 'bogus',
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/LOG_FORMAT must be pretty or json .*not "bogus"/);
    expect(() => statSync(never)).toThrow();
  });

  it.each(['pretty', 'json'])('LOG_FORMAT=%s: secrets in a log object are redacted', async (format) => {
    const code = `const { createLogger } = await import(${JSON.stringify(resolve(ROOT, 'src/jobs/logger.ts'))});
createLogger({ format: ${JSON.stringify(format)} }).info(
  { password: 'hunter2-pw', org: { clientSecret: 'client-s3cret' }, headers: { authorization: 'Bearer t0ken' },
    settings: { smtpUrl: 'smtp://u:smtp-pw@h' }, webhookSecret: 'hook-s3cret' },
  'a secret-bearing object');`;
    const output = await new Promise<string>((resolvePromise, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.on('error', reject);
      child.on('close', () => resolvePromise(out));
    });
    expect(output).toContain('a secret-bearing object');
    expect(output.match(/\[redacted\]/g)).toHaveLength(5);
    for (const secret of ['hunter2-pw', 'client-s3cret', 'Bearer', 't0ken', 'smtp-pw', 'hook-s3cret'])
      expect(output).not.toContain(secret);
    if (format === 'pretty') expect(output).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: a secret-bearing object \{/);
    else expect(JSON.parse(output)).toMatchObject({ password: '[redacted]', msg: 'a secret-bearing object' });
  });
});
