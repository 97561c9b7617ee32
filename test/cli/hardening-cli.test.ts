import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateTls } from '../../src/emulator/certs.js';
import { openStore } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { entrasync } from '../support/cli.js';
import { cliArgs } from '../support/cli-build.js';
import { createTestDatabase, DATABASES } from '../support/databases.js';
import { signInOverHttps } from '../support/https.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-hardening-'));
const tls = loadOrCreateTls(join(dir, 'tls'), ['127.0.0.1']);
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
writeFileSync(certFile, tls.certPem);
writeFileSync(keyFile, tls.keyPem, { mode: 0o600 });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve refuses a half or broken TLS setup (exit 2, before opening anything)', () => {
  const env = { DATA_DIR: join(dir, 'never'), DATABASE_URL: '', PORT: '0' };
  it.each([
    [{ TLS_CERT_FILE: certFile }, /TLS_CERT_FILE is set but TLS_KEY_FILE is not/],
    [{ TLS_KEY_FILE: keyFile }, /TLS_KEY_FILE is set but TLS_CERT_FILE is not/],
    [
      { TLS_CERT_FILE: join(dir, 'missing.pem'), TLS_KEY_FILE: keyFile },
      /TLS_CERT_FILE names .*missing\.pem, which cannot be read \(ENOENT\)/,
    ],
    [{ TLS_CERT_FILE: certFile, TLS_KEY_FILE: certFile }, /not a usable PEM certificate and key/],
    [{ TRUST_PROXY: 'yes' }, /TRUST_PROXY must be 1 \(on\) or 0 \(off\)/],
  ])('%o', async (extra, message) => {
    const result = await entrasync(['serve', '--no-demo'], { ...env, ...extra });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/BEGIN|PRIVATE KEY/);
    expect(() => statSync(env.DATA_DIR)).toThrow();
  });
});

describe.each(DATABASES)('entrasync CLI hardening on %s', (kind) => {
  it('serve listens on https with TLS_CERT_FILE and TLS_KEY_FILE: Secure cookie and HSTS', async () => {
    const db = await createTestDatabase(kind);
    const child = spawn(process.execPath, cliArgs(['serve', '--no-demo', '--port', '0']), {
      env: {
        ...process.env,
        ...db.env,
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
        ENTRASYNC_SERVE_ROLES: 'none',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const started = await new Promise<{ url: URL; email: string; password: string }>(
        (resolvePromise, reject) => {
          // Not a terminal, so JSON logs on stdout and the first start's sign-in frame on stderr.
          const read = (d: Buffer) => {
            out += d;
            const url = /listening on (\S+)/.exec(out)?.[1];
            const email = /address:\s+(\S+)/.exec(out)?.[1];
            const password = /password:\s+(\S+)/.exec(out)?.[1];
            if (url && email && password) resolvePromise({ url: new URL(url), email, password });
          };
          child.stdout.on('data', read);
          child.stderr.on('data', read);
          child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
        },
      );
      expect(started.url.protocol).toBe('https:');
      const res = await signInOverHttps(started.url, tls.caPem, {
        email: started.email,
        password: started.password,
      });
      expect(res.status).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await db.drop();
    }
  }, 60_000);

  it('worker --metrics-port 70000 exits 2 instead of running on', async () => {
    const db = await createTestDatabase(kind);
    try {
      const result = await entrasync(['worker', '--metrics-port', '70000'], db.env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/metrics-port must be a port number from 0 to 65535, not "70000"/);
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('operator set-password refuses an address that is not one (exit 2) and accepts a real one', async () => {
    const db = await createTestDatabase(kind);
    try {
      const bad = await entrasync(
        ['operator', 'set-password', '--email', 'not an email', '--password-stdin'],
        db.env,
        'a long enough password',
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/email: "not an email" is not an email address/);
      const good = await entrasync(
        ['operator', 'set-password', '--email', 'Ops@Example.com', '--password-stdin', '--json'],
        db.env,
        'a long enough password',
      );
      expect(good.code, good.stderr).toBe(0);
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe('SQLite files are the owner’s alone', () => {
  it('creates the data folder 0700 and the database, -wal and -shm 0600', async () => {
    const previous = process.umask(0o022);
    const dataDir = join(dir, 'data', 'nested');
    const file = join(dataDir, 'entrasync.db');
    const store = openStore({ sqliteFile: file });
    try {
      await migrateToLatest(store);
      for (const path of [file, `${file}-wal`, `${file}-shm`])
        expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    } finally {
      await store.close();
      process.umask(previous);
    }
  });
});
