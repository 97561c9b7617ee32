/**
 * Request/response over a forked child's IPC channel. The benchmark runs the emulator and each
 * measured sync in child processes, so every process's peak RSS is its own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiled } from './compiled.js';

interface Request {
  id: number;
  method: string;
  params: unknown;
}

interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

/** A child process running a bench/*.ts worker, compiled (bench/compiled.ts). */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const msg = raw as Response;
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) waiter.reject(new Error(msg.error));
      else waiter.resolve(msg.result);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`worker exited (code ${code}, signal ${signal})`);
      for (const w of this.pending.values()) w.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Forks `script` (a path relative to this folder), compiled; `execArgv` adds Node flags (e.g. --cpu-prof). */
  static start(script: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): Worker {
    const child = fork(compiled(fileURLToPath(new URL(script, import.meta.url))), [], {
      execArgv,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Worker(child);
  }

  call<T>(method: string, params: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, method, params } satisfies Request);
    });
  }

  /** Asks the worker to exit and waits for it. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ id: 0, method: 'exit', params: {} } satisfies Request);
    await done;
  }
}

/** The worker side: answers requests with `handlers` until asked to exit. */
export function serve(
  handlers: Record<string, (params: never) => unknown>,
  onExit?: () => Promise<void>,
): void {
  process.on('message', (raw) => {
    const msg = raw as Request;
    if (msg.method === 'exit') {
      void (onExit ?? (async () => undefined))().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[msg.method];
    const reply = (r: Omit<Response, 'id'>) => process.send?.({ id: msg.id, ...r });
    if (!handler) {
      reply({ error: `no method ${msg.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.params as never))
      .then(
        (result) => reply({ result }),
        (error: unknown) =>
          reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
}
