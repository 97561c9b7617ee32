import { createSocket } from 'node:dgram';

/**
 * A DNS server on 127.0.0.1 (UDP) that answers TXT questions from a table the test fills, so
 * domain proofs run through node's real resolver (ENTRASYNC_DNS_SERVERS=127.0.0.1:<port>)
 * without reaching the internet. Names without records answer NXDOMAIN, as an unpublished
 * domain does; other question types answer an empty NOERROR.
 */
export interface TestDnsServer {
  port: number;
  /** Replaces the TXT records of `name` (each value one record); [] removes them. */
  setTxt(name: string, values: string[]): void;
  /** Questions received, in order (lower-cased name and numeric type). */
  readonly questions: { name: string; type: number }[];
  close(): Promise<void>;
}

const TYPE_TXT = 16;
const CLASS_IN = 1;

export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, string[]>();
  const questions: { name: string; type: number }[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const answer = respond(query, records, questions);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    setTxt(name, values) {
      const key = name.toLowerCase().replace(/\.$/, '');
      if (values.length) records.set(key, [...values]);
      else records.delete(key);
    },
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The answer to one query (RFC 1035 §4.1), or null for a packet that is not a question. */
function respond(
  query: Buffer,
  records: Map<string, string[]>,
  questions: { name: string; type: number }[],
): Buffer | null {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at]!;
    labels.push(query.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  at += 1;
  if (at + 4 > query.length) return null;
  const type = query.readUInt16BE(at);
  const questionEnd = at + 4;
  const name = labels.join('.').toLowerCase();
  questions.push({ name, type });
  const values = records.get(name);
  const answers = values && type === TYPE_TXT ? values.map(txtAnswer) : [];

  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const recursionDesired = query[2]! & 0x01;
  header[2] = 0x84 | recursionDesired; // QR, authoritative answer
  header[3] = values ? 0 : 3; // NOERROR, or NXDOMAIN for a name with no records
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

/** One TXT resource record naming the question (pointer 0xc00c); long values split in 255-byte strings. */
function txtAnswer(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const part = bytes.subarray(i, i + 255);
    chunks.push(Buffer.from([part.length]), part);
  }
  const data = Buffer.concat(chunks);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(TYPE_TXT, 2);
  fixed.writeUInt16BE(CLASS_IN, 4);
  fixed.writeUInt32BE(60, 6);
  fixed.writeUInt16BE(data.length, 10);
  return Buffer.concat([fixed, data]);
}
