import { randomUUID } from 'node:crypto';

/** Time and identity sources, injected so tests can control them. */
export interface Runtime {
  now(): Date;
  newId(): string;
}

export const systemRuntime: Runtime = { now: () => new Date(), newId: () => randomUUID() };
