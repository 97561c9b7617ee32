import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:web` puts the console: web/dist, from src/http as from dist/http. */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface ConsoleOptions {
  /** The built console (`web/dist`, made by `npm run build:web`). */
  root: string;
}

/**
 * The console's pages are the same document: no inline scripts, Mantine's inline styles, and no
 * framing (clickjacking of a console that can delete users).
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // index.html names the hashed assets of the current build, so it must never be served stale.
  'cache-control': 'no-cache',
};

/**
 * Serves the single-page console at `/`: its files, and index.html for every other GET outside
 * `/api` so that deep links (`/orgs/…/users`) load the app, which then routes on the client.
 * Unknown `/api` paths keep answering the API's JSON error. Without a build, `/` says how to make one.
 */
export async function registerConsole(server: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const built = existsSync(join(options.root, 'index.html'));
  if (built) {
    await server.register(fastifyStatic, {
      root: options.root,
      prefix: '/',
      index: ['index.html'],
      schemaHide: true,
      setHeaders: (reply, path) => {
        if (path.endsWith(`${sep}index.html`)) reply.headers(PAGE_HEADERS);
        // Vite names files under assets/ by content hash: safe to cache for good.
        else if (path.includes(`${sep}assets${sep}`))
          reply.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  }
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (
      path === '/api' ||
      path.startsWith('/api/') ||
      (request.method !== 'GET' && request.method !== 'HEAD')
    ) {
      return reply.status(404).send({
        error: { code: 'not_found', message: `No such route: ${request.method} ${path}.` },
      });
    }
    return built ? sendIndex(reply) : sendNotBuilt(reply, options.root);
  });
}

function sendIndex(reply: FastifyReply) {
  return reply.type('text/html; charset=utf-8').sendFile('index.html');
}

function sendNotBuilt(reply: FastifyReply, root: string) {
  return reply
    .status(503)
    .headers({ ...PAGE_HEADERS, 'cache-control': 'no-store' })
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>entrasync</title></head><body>' +
        '<h1>The console is not built yet</h1>' +
        `<p>No <code>index.html</code> in <code>${escapeHtml(root)}</code>. Build it with ` +
        '<code>npm run build:web</code> and reload this page. The JSON API is up at ' +
        '<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>',
    );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
