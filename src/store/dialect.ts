/**
 * Everything that differs between SQLite and PostgreSQL lives here, as capability values and
 * two small adapters; the rest of the store writes dialect-agnostic Kysely.
 */

import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';

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
}

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
};

export const POSTGRES: DialectInfo = {
  name: 'postgres',
  timestamp: 'timestamptz',
  boolean: 'boolean',
  binary: 'bytea',
  isUniqueViolation: (error) =>
    typeof error === 'object' && error !== null && 'code' in error && error.code === '23505',
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
