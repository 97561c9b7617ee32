import type { LightMyRequestResponse } from 'fastify';
import { expect, type MockInstance } from 'vitest';

/** The JSON a service's value becomes when nothing is dropped: what the client must receive. */
export const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** The spied service method's last return value, awaited, as JSON. */
export async function lastReturned(spy: MockInstance): Promise<unknown> {
  const last = spy.mock.results.at(-1);
  expect(last?.type, 'the route called the service').toBe('return');
  return asJson(await last!.value);
}

/**
 * Expects the response to carry exactly the spied service method's last return value: Fastify
 * drops every property a response schema does not list, so a property missing from a schema
 * makes the two differ.
 */
export async function expectServedAsReturned(
  response: LightMyRequestResponse,
  spy: MockInstance,
  status = 200,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json()).toEqual(await lastReturned(spy));
  return response.json();
}
