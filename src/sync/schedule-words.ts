/**
 * How often automatic syncs may run, in hours (null, "never", is manual only): the one list the
 * server checks and the console offers. Pure values only, so the console's bundle can take them;
 * src/services/entra-settings.ts re-exports them for the server.
 */
export const FREQUENCIES = [1, 3, 6, 12, 24] as const;
