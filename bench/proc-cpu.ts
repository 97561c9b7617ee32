/**
 * CPU time of other processes, read from Linux's /proc: the workers (by pid) and a local
 * PostgreSQL (its postmaster and every backend). Readings are cumulative seconds; a figure is the
 * difference of two readings.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux Node runs on). */
const TICKS = 100;

interface Stat {
  ppid: number;
  /** user + system seconds of the process itself. */
  own: number;
  /** user + system seconds of its children that exited and were waited for. */
  children: number;
}

function stat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // A process that has exited has no entry: it has no CPU left to add.
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ESRCH'
    )
      return null;
    throw error;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const n = (field: number) => Number(f[field - 3]);
  return { ppid: n(4), own: (n(14) + n(15)) / TICKS, children: (n(16) + n(17)) / TICKS };
}

/** User + system seconds of these processes so far (0 for one that is gone). */
export function cpuSecondsOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (stat(pid)?.own ?? 0), 0);
}

/**
 * User + system seconds of a PostgreSQL server so far: its postmaster, the backends it forked
 * that are alive, and (through the postmaster's children times) those that have exited.
 * Null when the postmaster's /proc entry cannot be read (a server on another machine).
 */
export function postgresCpuSeconds(postmasterPid: number): number | null {
  const master = stat(postmasterPid);
  if (!master) return null;
  let sum = master.own + master.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s?.ppid === postmasterPid) sum += s.own;
  }
  return sum;
}

/** The postmaster of the backend with this pid (its parent), or null when it cannot be read. */
export function postmasterOf(backendPid: number): number | null {
  return stat(backendPid)?.ppid ?? null;
}
