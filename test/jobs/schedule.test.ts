import { describe, expect, it } from 'vitest';
import { backoffHours, nextSyncAt, secretReminderStep } from '../../src/jobs/schedule.js';
import { isPrivateAddress, parseWebhookUrl, signWebhook } from '../../src/jobs/webhook.js';
import type { ScheduleCandidate } from '../../src/store/jobs-repository.js';

const base: ScheduleCandidate = {
  orgId: 'o',
  frequencyHours: 6,
  secretExpiresAt: null,
  lastStartedAt: '2026-01-01T00:00:00.000Z',
  consecutiveFailures: 0,
  heldRunId: null,
};
const now = new Date('2026-01-01T03:00:00.000Z');

describe('schedule rules', () => {
  it('next run = start of the last run + frequency; at once when never run; none when manual or held', () => {
    expect(nextSyncAt(base, now)?.toISOString()).toBe('2026-01-01T06:00:00.000Z');
    expect(nextSyncAt({ ...base, lastStartedAt: null }, now)).toEqual(now);
    expect(nextSyncAt({ ...base, frequencyHours: null }, now)).toBeNull();
    expect(nextSyncAt({ ...base, heldRunId: 'r' }, now)).toBeNull();
  });

  it('a failing connection backs off hourly to daily, whatever the frequency', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(backoffHours)).toEqual([1, 2, 4, 8, 16, 24, 24, 24]);
    expect(nextSyncAt({ ...base, consecutiveFailures: 3 }, now)?.toISOString()).toBe(
      '2026-01-01T04:00:00.000Z',
    );
  });

  it('secret reminders at 30, 7 and 1 days before, and once expired', () => {
    const at = (d: string) => secretReminderStep('2026-03-31', new Date(`${d}T10:00:00Z`));
    expect(at('2026-02-27')).toBeNull();
    expect(at('2026-03-01')).toBe(30);
    expect(at('2026-03-23')).toBe(30);
    expect(at('2026-03-24')).toBe(7);
    expect(at('2026-03-30')).toBe(1);
    expect(at('2026-03-31')).toBe(0);
    expect(at('2026-04-05')).toBe(0);
  });
});

describe('webhook safety', () => {
  it('accepts https only, and no private or loopback address unless allowed', () => {
    expect(parseWebhookUrl('https://hooks.example.com/x', false)).toBe('https://hooks.example.com/x');
    expect(() => parseWebhookUrl('http://hooks.example.com/x', false)).toThrow(/https/);
    for (const url of [
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://169.254.169.254/latest',
      'https://[::1]/x',
      'https://[::ffff:192.168.1.1]/x',
      'https://localhost/x',
    ])
      expect(() => parseWebhookUrl(url, false), url).toThrow(/private or loopback/);
    expect(() => parseWebhookUrl('https://user:pw@hooks.example.com/', false)).toThrow(/credentials/);
    expect(parseWebhookUrl('http://127.0.0.1:8080/x', true)).toBe('http://127.0.0.1:8080/x');
  });

  it('classifies addresses', () => {
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
    for (const a of ['127.0.0.1', '192.168.0.1', '172.20.0.1', '100.64.0.1', 'fd00::1', 'fe80::1', '::'])
      expect(isPrivateAddress(a), a).toBe(true);
  });

  it('signs timestamp and body with HMAC-SHA256', () => {
    expect(signWebhook('secret', '1700000000', '{"a":1}')).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signWebhook('secret', '1700000000', '{"a":1}')).not.toBe(
      signWebhook('secret', '1700000001', '{"a":1}'),
    );
  });
});
