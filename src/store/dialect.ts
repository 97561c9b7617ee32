/**
 * Everything that differs between SQLite and PostgreSQL lives here, as capability values and
 * two small adapters; the rest of the store writes dialect-agnostic Kysely.
 */

import {
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PrimitiveValueListNode,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  sql,
  type UnknownRow,
  type ValueNode,
  ValuesNode,
} from 'kysely';
import { CopyRows, copyStatement } from './pg-copy.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

/** Column types and error shapes per dialect, used by migrations and repositories. */
export interface DialectInfo {
  name: DialectName;
  /** Column type for ISO-8601 timestamps. */
  timestamp: 'timestamptz' | 'text';
  /** Column type for booleans. */
  boolean: 'boolean' | 'integer';
  /** Column type for large binary values (compressed snapshots). */
  binary: 'bytea' | 'blob';
  /** True when an error is a unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;
  /** How one statement carries many rows (the sync writer's inserts, updates and deletes). */
  bulk: BulkRows;
}

/** What a column of bulk rows holds: PostgreSQL needs it to type each column's array. */
export type ColumnKind = 'text' | 'boolean' | 'timestamp';

/**
 * Many rows in one statement. `rows()` is a row source that reads the same on both dialects in
 * the two places the writer puts it: after `insert into t (…)`, and as the body of
 * `with v(…) as (…)` that an `update … from v` or a `delete … where (…) in (select … from v)`
 * reads. `insert()` writes new rows the fastest way the dialect has.
 */
export interface BulkRows {
  /** Rows of `columns` values one statement carries at most. */
  maxRows(columns: number): number;
  /** The rows (each one value per kind, in order) as a row source. */
  rows(kinds: readonly ColumnKind[], rows: readonly (readonly unknown[])[]): RawBuilder<unknown>;
  /** `insert into table (columns)` of the rows (at most `maxRows`), in one statement, on `db`'s connection. */
  insert(
    db: Kysely<Database>,
    table: string,
    columns: readonly string[],
    kinds: readonly ColumnKind[],
    rows: readonly (readonly unknown[])[],
  ): Promise<void>;
}

/**
 * SQLite: `values (?, ?), (?, ?)…`, one parameter per value. SQLite takes up to 32,766 a
 * statement, but a statement of 30,000 made a 100,000-user first sync peak at 780 MiB against
 * 510 MiB with 1,500: each statement's rows, nodes and parameters outlive V8's young
 * generation and pile up as old garbage. The statements run in-process, so more of them cost
 * little: the apply took 15.5–18.8 s against 22.4–22.8 s, inside that day's spread for the
 * same code (15.5–27.1 s).
 */
const SQLITE_PARAMETERS = 1_500;

const SQLITE_BULK: BulkRows = {
  maxRows: (columns) => Math.max(1, Math.floor(SQLITE_PARAMETERS / columns)),
  // Kysely's own node for a values list (as `insertInto().values()` builds it): one node a row
  // holding the raw values. A `sql` fragment a row, a node a value, made the first sync's
  // inserts 2.5× slower than the query builder.
  rows: (_kinds, rows) => {
    const values = ValuesNode.create(rows.map((row) => PrimitiveValueListNode.create(row)));
    return sql`${{ toOperationNode: () => values }}`;
  },
  async insert(db, table, columns, kinds, rows) {
    const names = sql.join(columns.map((c) => sql.ref(c)));
    await sql`insert into ${sql.table(table)} (${names}) ${SQLITE_BULK.rows(kinds, rows)}`.execute(db);
  },
};

const PG_ARRAY_TYPE: Record<ColumnKind, string> = {
  text: 'text[]',
  boolean: 'boolean[]',
  timestamp: 'timestamptz[]',
};

/**
 * PostgreSQL: `select * from unnest($1::text[], $2::boolean[]…)`, one array parameter per column
 * whatever the number of rows (a values list would stop at 65,535 parameters and cost a parse of
 * each); batches of 20,000 rows keep one statement's arrays to a few MiB. New rows go by COPY
 * (src/store/pg-copy.ts), which the store's pool understands.
 */
const POSTGRES_BULK: BulkRows = {
  maxRows: () => 20_000,
  rows: (kinds, rows) => {
    const columns = kinds.map(
      (kind, i) => sql`${rows.map((row) => row[i])}::${sql.raw(PG_ARRAY_TYPE[kind])}`,
    );
    return sql`select * from unnest(${sql.join(columns)})`;
  },
  async insert(db, table, columns, kinds, rows) {
    await db.executeQuery(copyStatement(table, columns, new CopyRows(kinds, rows)));
  },
};

export const SQLITE: DialectInfo = {
  name: 'sqlite',
  timestamp: 'text',
  boolean: 'integer',
  binary: 'blob',
  isUniqueViolation: (error) =>
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'),
  bulk: SQLITE_BULK,
};

export const POSTGRES: DialectInfo = {
  name: 'postgres',
  timestamp: 'timestamptz',
  boolean: 'boolean',
  binary: 'bytea',
  isUniqueViolation: (error) =>
    typeof error === 'object' && error !== null && 'code' in error && error.code === '23505',
  bulk: POSTGRES_BULK,
};

/** Boolean columns (by name, across tables): SQLite stores them as 0/1 and we read them back as booleans. */
const BOOLEAN_COLUMNS = new Set(['exempt', 'is_primary', 'can_create_tokens', 'endpoints_by_operator']);

class BooleanToInteger extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = node.value;
    return typeof value === 'boolean' ? { ...node, value: value ? 1 : 0 } : super.transformValue(node);
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return {
      ...node,
      values: node.values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)),
    };
  }
}

/**
 * better-sqlite3 refuses to bind JS booleans and returns 0/1: this plugin converts both ways so
 * repositories see the same types as on PostgreSQL.
 */
export class SqliteBooleanPlugin implements KyselyPlugin {
  readonly #transformer = new BooleanToInteger();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    for (const row of args.result.rows) {
      for (const key in row) {
        if (BOOLEAN_COLUMNS.has(key) && typeof row[key] === 'number') row[key] = row[key] === 1;
      }
    }
    return args.result;
  }
}
