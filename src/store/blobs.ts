import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** JSON, gzip'd (level 1: snapshots are large and written on every run, so speed beats size). */
export function packJson(value: unknown): Buffer {
  return gzipSync(JSON.stringify(value), { level: 1 });
}

/**
 * packJson with the compression on libuv's thread pool: the caller can go on (write to the
 * database) while a large snapshot is compressed on another core.
 */
export function packJsonAsync(value: unknown): Promise<Buffer> {
  return gzipAsync(JSON.stringify(value), { level: 1 });
}

/** A value packed ahead of time, for a repository method that would otherwise pack it. */
export class PackedJson {
  constructor(readonly blob: Buffer) {}
}

export function unpackJson<T>(blob: Buffer | Uint8Array): T {
  return JSON.parse(gunzipSync(blob).toString('utf8')) as T;
}

/** unpackJson with the decompression on libuv's thread pool. */
export async function unpackJsonAsync<T>(blob: Buffer | Uint8Array): Promise<T> {
  return JSON.parse((await gunzipAsync(blob)).toString('utf8')) as T;
}
