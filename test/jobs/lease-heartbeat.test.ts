import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseHeartbeat, leaseTiming } from '../../src/services/lease-heartbeat.js';

describe('LeaseHeartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews four times per lease lifetime', async () => {
    expect(leaseTiming(60)).toEqual({ ttlMs: 60_000, renewEveryMs: 15_000 });
    let renewals = 0;
    const beat = new LeaseHeartbeat(async () => {
      renewals++;
      return true;
    }, 15_000);
    beat.start();
    await vi.advanceTimersByTimeAsync(60_000);
    await beat.stop();
    expect(renewals).toBe(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(renewals).toBe(4);
  });

  it('stops beating once a renewal finds the lease lost, and says so', async () => {
    let renewals = 0;
    const beat = new LeaseHeartbeat(async () => {
      renewals++;
      return false;
    }, 1_000);
    beat.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(renewals).toBe(1);
    expect(beat.lostBecause).toMatch(/expired, or another sync had taken it over/);
    await beat.stop();
  });

  it('keeps beating after a failed renewal, and names the failure until one succeeds', async () => {
    const outcomes = [new Error('connection reset'), true];
    const beat = new LeaseHeartbeat(async () => {
      const next = outcomes.shift() ?? true;
      if (next instanceof Error) throw next;
      return next;
    }, 1_000);
    beat.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(beat.lostBecause).toMatch(/renewing it failed: connection reset/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(beat.lostBecause).toBe('it was not renewed in time');
    await beat.stop();
  });

  it('does not stack renewals behind a slow one, and stop waits for the one in flight', async () => {
    let started = 0;
    let finished = 0;
    const beat = new LeaseHeartbeat(async () => {
      started++;
      await new Promise((r) => setTimeout(r, 3_500));
      finished++;
      return true;
    }, 1_000);
    beat.start();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(started).toBe(1);
    const stopped = beat.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;
    expect(finished).toBe(started);
  });
});
