import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// docs/security.md, "Who may do what": anyone on the network may sign in (and out), and nothing else.
const OPEN_TO_ANYONE = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/logout']);

describe('routes without a session or token', () => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    app = await openApp(loadConfig({ ...db.env }));
    server = await buildServer(app);
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await db?.drop();
  });

  it('answers 401 on every route of the OpenAPI document but sign-in and sign-out, before validating input', async () => {
    const org = await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test');
    const doc = (await server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const answers: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (OPEN_TO_ANYONE.has(route)) continue;
        // Real ids where a route names one, so a refusal is about the caller, not a missing object.
        const url = path.replace('{org}', org.id).replace(/\{[^}]+\}/g, 'x');
        const res = await server.inject({ method: method.toUpperCase() as 'GET', url, payload: {} });
        answers.push(`${route} → ${res.statusCode}`);
      }
    }
    expect(answers.length).toBeGreaterThan(30);
    expect(answers.filter((a) => !a.endsWith('→ 401'))).toEqual([]);
  });
});
