/**
 * One measured sync in a fresh process: opens the app on the given database, executes a sync of
 * the organization (read, plan, apply) and reports its timings, the read's request counts and the
 * process's peak RSS — which is then the sync's own, the emulator running elsewhere.
 */
import { loadConfig } from '../src/config.js';
import { openApp } from '../src/services/app.js';
import type { RunResult } from '../src/services/sync.js';
import { connectorFactory, type ReadRecord, type Strategy } from './connectors.js';
import { serve } from './ipc.js';

/** What to sync. */
export interface SyncParams {
  /** DATA_DIR, DATABASE_URL and ENTRASYNC_SECRET_KEY of the database. */
  env: Record<string, string>;
  orgId: string;
  strategy: Strategy;
}

/** A finished sync as measured. */
export interface SyncMeasurement {
  run: RunResult;
  totalMs: number;
  read: ReadRecord | undefined;
  /** Peak resident set size of this process, MiB. */
  peakRssMiB: number;
}

serve({
  sync: async (p: SyncParams): Promise<SyncMeasurement> => {
    let read: ReadRecord | undefined;
    const app = await openApp(
      loadConfig(p.env),
      undefined,
      connectorFactory(p.strategy, (r) => (read = r)),
    );
    try {
      const sync = await app.sync(p.orgId);
      const start = performance.now();
      const run = await sync.execute({ trigger: 'manual' }, 'bench');
      const totalMs = performance.now() - start;
      // maxRSS is in KiB on Linux.
      return { run, totalMs, read, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
    } finally {
      await app.close();
    }
  },
});
