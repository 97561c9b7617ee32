import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { consolePage, consoleUrl } from '../../src/jobs/notifier.js';

describe('ENTRASYNC_PUBLIC_URL', () => {
  const publicUrl = (value: string) => loadConfig({ ENTRASYNC_PUBLIC_URL: value }, false).jobs.publicUrl;

  it('is the console address without a trailing slash, a path prefix kept', () => {
    expect(loadConfig({}, false).jobs.publicUrl).toBeUndefined();
    expect(publicUrl('https://entrasync.example.com/')).toBe('https://entrasync.example.com');
    expect(publicUrl(' https://proxy.example/entrasync// ')).toBe('https://proxy.example/entrasync');
    expect(publicUrl('http://localhost:3000')).toBe('http://localhost:3000');
  });

  it.each([
    ['entrasync.example.com', /must be the console's address/],
    ['ftp://entrasync.example.com', /must start with https:\/\/ or http:\/\//],
    ['https://user:pw@entrasync.example.com', /without user, password, query or fragment/],
    ['https://entrasync.example.com/?a=1', /without user, password, query or fragment/],
  ])('refuses %s, naming the variable', (value, why) => {
    expect(() => publicUrl(value)).toThrow(why);
    expect(() => publicUrl(value)).toThrow(/^ENTRASYNC_PUBLIC_URL /);
  });
});

describe('the console page of a notification', () => {
  it('is the run, the key settings or the overview', () => {
    expect(consolePage('org 1', { kind: 'sync_held', runId: 'r/1' }).path).toBe(
      '/orgs/org%201/history/r%2F1',
    );
    expect(consolePage('o', { kind: 'secret_expiring', runId: null }).path).toBe(
      '/orgs/o/settings/import-users/azure-ad',
    );
    expect(consolePage('o', { kind: 'seats_exceeded', runId: null }).path).toBe('/orgs/o/overview');
    expect(consoleUrl(undefined, { path: '/orgs/o/overview' })).toBeNull();
    expect(consoleUrl('https://c.example', { path: '/orgs/o/overview' })).toBe(
      'https://c.example/orgs/o/overview',
    );
  });
});
