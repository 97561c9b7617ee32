/**
 * A TCP proxy between the workers and PostgreSQL that counts database round trips from outside
 * the product, in its own process (driven over IPC, bench/ipc.ts) so its CPU is not the
 * emulators'. It reads only what the client sends: every connection's startup message (for its
 * application_name: pg-boss names its connections `entrasync-jobs`, the product's pool names
 * none) and then the frontend messages' type bytes. A client waits for the server at each Sync
 * ('S', the end of an extended-protocol query: Parse/Bind/Execute/Sync) and each simple Query
 * ('Q'), so their count is the number of round trips; authentication exchanges are not counted.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { serve } from './ipc.js';

/** Round trips of the connections of one application_name (`''` when none was sent). */
export interface RoundTrips {
  connections: number;
  syncs: number;
  queries: number;
}

/** The counts since the last reset, by application_name. */
export type CounterCounts = Record<string, RoundTrips>;

/** Statements sent since the last reset (Parse and simple Query texts, cut to 100 characters), by application_name. */
export type StatementCounts = Record<string, Record<string, number>>;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

let counts: CounterCounts = {};
let statements: StatementCounts = {};
const PARSE = 0x50;
const QUERY = 0x51;
const SYNC = 0x53;

/** Tallies a statement's text: a Parse body is a name and then the text, a Query body the text. */
function tally(app: string, type: number, body: Buffer): void {
  let text = body;
  if (type === PARSE) text = body.subarray(body.indexOf(0) + 1);
  const end = text.indexOf(0);
  const key = text
    .subarray(0, end < 0 ? Math.min(text.length, 400) : Math.min(end, 400))
    .toString('utf8')
    .replace(/\s+/g, ' ')
    .slice(0, 100);
  const byText = statements[app] ?? {};
  statements[app] = byText;
  byText[key] = (byText[key] ?? 0) + 1;
}
const bucket = (app: string): RoundTrips => {
  let b = counts[app];
  if (!b) {
    b = { connections: 0, syncs: 0, queries: 0 };
    counts[app] = b;
  }
  return b;
};

/** Parses one connection's frontend stream as it arrives, in pieces of any size. */
class FrontendParser {
  /** The start of a message not yet complete enough to read its type and length. */
  #pending: Buffer = Buffer.alloc(0);
  /** Bytes of a message body still to come: skipped unread (bulk inserts can be large). */
  #skip = 0;
  /** Null until the startup message names the application. */
  #app: string | null = null;

  feed(chunk: Buffer): void {
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    for (;;) {
      if (this.#app === null) {
        // Startup phase: untyped messages (a length, then a request code or the protocol version).
        if (buf.length - at < 8) break;
        const length = buf.readInt32BE(at);
        if (buf.length - at < length) break;
        const code = buf.readInt32BE(at + 4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST && code !== CANCEL_REQUEST)
          this.#startup(buf.subarray(at + 8, at + length));
        at += length;
        continue;
      }
      // Typed messages: one type byte, then a length that counts itself but not the type.
      if (buf.length - at < 5) break;
      const type = buf[at]!;
      const length = buf.readInt32BE(at + 1);
      if (type === SYNC) bucket(this.#app).syncs++;
      else if (type === QUERY) bucket(this.#app).queries++;
      // A statement's text is read when its start has arrived (long bulk inserts are cut anyway).
      if ((type === PARSE || type === QUERY) && buf.length - at >= Math.min(1 + length, 420))
        tally(this.#app, type, buf.subarray(at + 5, Math.min(at + 1 + length, buf.length)));
      at += 1 + length;
      if (at > buf.length) {
        this.#skip = at - buf.length;
        at = buf.length;
        break;
      }
    }
    this.#pending = buf.subarray(at);
  }

  #startup(params: Buffer): void {
    // key\0value\0 … \0
    const parts = params.toString('utf8').split('\0');
    const i = parts.indexOf('application_name');
    this.#app = i >= 0 && i % 2 === 0 ? (parts[i + 1] ?? '') : '';
    bucket(this.#app).connections++;
  }
}

function pipeCounting(client: Socket, target: { host: string; port: number }): void {
  const server = createConnection(target);
  const parser = new FrontendParser();
  client.on('data', (chunk) => parser.feed(chunk));
  client.pipe(server);
  server.pipe(client);
  const close = () => {
    client.destroy();
    server.destroy();
  };
  client.on('error', close);
  server.on('error', close);
  client.on('close', close);
  server.on('close', close);
}

serve({
  /** Listens on a free port of 127.0.0.1 and forwards every connection to `host:port`. */
  start: (p: { host: string; port: number }) =>
    new Promise<{ port: number }>((resolve, reject) => {
      const listener = createServer((client) => pipeCounting(client, p));
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => {
        const address = listener.address();
        if (typeof address === 'object' && address) resolve({ port: address.port });
        else reject(new Error('no address'));
      });
    }),
  /** The counts since the last reset; `reset: true` starts new ones (of statements too). */
  counts: (p: { reset?: boolean }): CounterCounts => {
    const now = counts;
    if (p.reset) {
      counts = {};
      statements = {};
    }
    return now;
  },
  statements: (): StatementCounts => statements,
  pid: () => process.pid,
});
