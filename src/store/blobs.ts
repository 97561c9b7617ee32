import { gunzipSync, gzipSync } from 'node:zlib';

/** JSON, gzip'd (level 1: snapshots are large and written on every run, so speed beats size). */
export function packJson(value: unknown): Buffer {
  return gzipSync(JSON.stringify(value), { level: 1 });
}

export function unpackJson<T>(blob: Buffer | Uint8Array): T {
  return JSON.parse(gunzipSync(blob).toString('utf8')) as T;
}
