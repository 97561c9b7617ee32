/**
 * The one pager: follows @odata.nextLink until a page has none, validating every page and every
 * item. Plain lists end without a link; delta rounds end with an @odata.deltaLink.
 */
import type { z } from 'zod';
import type { GraphClient } from './client.js';
import { GraphError } from './errors.js';
import { pageSchema } from './schemas.js';

/** One validated page. */
export interface Page<T> {
  items: T[];
  nextLink: string | undefined;
  deltaLink: string | undefined;
}

/** Where a page came from, for error messages and link checks. */
export interface PageContext {
  /** Names the call, e.g. 'users delta'. */
  what: string;
  /** The Graph root; links must stay on its origin (the bearer token goes wherever they point). */
  graphUrl: string;
  requestId?: string | undefined;
}

/** Formats a zod issue path as `value[3].proxyAddresses[0]`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/** Validates a collection page and its items; throws malformed_payload naming the first problem. */
export function parsePage<S extends z.ZodType>(
  body: unknown,
  itemSchema: S,
  ctx: PageContext,
): Page<z.output<S>> {
  const where = `${ctx.what}${ctx.requestId ? ` (request-id ${ctx.requestId})` : ''}`;
  const fail = (problem: string) => new GraphError('malformed_payload', `${where}: ${problem}`);
  const page = pageSchema.safeParse(body);
  if (!page.success) {
    const issue = page.error.issues[0];
    throw fail(`page${pathText(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
  }
  const nextLink = page.data['@odata.nextLink'];
  const deltaLink = page.data['@odata.deltaLink'];
  if (nextLink && deltaLink) throw fail('page has both @odata.nextLink and @odata.deltaLink');
  const origin = new URL(ctx.graphUrl).origin;
  for (const link of [nextLink, deltaLink]) {
    if (link === undefined) continue;
    let url: URL;
    try {
      url = new URL(link);
    } catch (error) {
      throw new GraphError('malformed_payload', `${where}: link is not an absolute URL`, { cause: error });
    }
    if (url.origin !== origin) throw fail(`link points to ${url.origin}, not the Graph root ${origin}`);
  }
  const items: z.output<S>[] = [];
  page.data.value.forEach((raw, index) => {
    const item = itemSchema.safeParse(raw);
    if (!item.success) {
      const issue = item.error.issues[0];
      throw fail(`value[${index}]${pathText(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
    }
    items.push(item.data);
  });
  return { items, nextLink, deltaLink };
}

/** Counters the pager updates. */
export interface PagerCounters {
  pages: number;
}

/** Yields each validated page from `firstUrl` on, following nextLinks ("even if a page is empty"). */
export async function* pages<S extends z.ZodType>(
  client: GraphClient,
  firstUrl: string,
  itemSchema: S,
  ctx: { what: string; graphUrl: string },
  counters?: PagerCounters,
): AsyncGenerator<Page<z.output<S>>> {
  let url: string | undefined = firstUrl;
  while (url !== undefined) {
    const { body, requestId } = await client.get(url, ctx.what);
    const page = parsePage(body, itemSchema, { ...ctx, requestId });
    if (counters) counters.pages++;
    yield page;
    url = page.nextLink;
  }
}
