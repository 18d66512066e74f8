import type { InvalidationTarget } from '@cachesaga/core'
import { z } from 'zod'
import { applyMigration } from '../database/apply-migration.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { identifierSchema, parseOptions } from '../parse-options.js'
import { publicationMigrationSql, triggerMigrationSql } from './capture-sql.js'
import type { Change } from './change.js'
import { mergeTargets } from './merge-targets.js'
import type { TableDeclaration } from './watch-table.js'

export interface ChangeCaptureOptions {
  /** The watched tables, each from `watchTable(...)`. */
  tables: readonly TableDeclaration<string>[]
  /** The schema that holds this package's tables and functions. Default `cachesaga`. */
  schema?: string
}

/** Which migration: triggers writing a changes table, or a publication for a logical replication slot. */
export type CaptureSource = 'triggers' | 'replication'

export interface MigrationOptions {
  source: CaptureSource
  /** The publication the replication source reads. Default `<schema>_changes`. */
  publication?: string
}

const optionsSchema = z.object({
  tables: z
    .array(
      z.custom<TableDeclaration>(
        (value) => typeof value === 'object' && value !== null && 'name' in value,
        'expected a watchTable(...) declaration',
      ),
    )
    .min(1),
  schema: identifierSchema.default('cachesaga'),
})

const migrationSchema = z.object({
  source: z.enum(['triggers', 'replication']),
  publication: identifierSchema.optional(),
})

/**
 * The app's declaration of what to watch and what each change invalidates, shared by both sources: it
 * writes the migration (`migrationSql`, or `install` to apply it) and maps a delivered change to its targets.
 */
export class ChangeCapture {
  readonly schema: string
  /** The NOTIFY channel the triggers ring after a change. */
  readonly channel: string
  private readonly tables: ReadonlyMap<string, TableDeclaration>

  constructor(options: ChangeCaptureOptions) {
    const parsed = parseOptions(optionsSchema, options, 'ChangeCaptureOptions')
    this.schema = parsed.schema
    this.channel = `${parsed.schema}_changes`
    const tables = new Map<string, TableDeclaration>()
    for (const table of parsed.tables) {
      if (tables.has(table.name.qualified)) {
        throw new PostgresError(
          'PG_ERR_INVALID_DECLARATION',
          `table ${table.name.qualified} is declared twice`,
          {
            details: { table: table.name.qualified },
          },
        )
      }
      tables.set(table.name.qualified, table)
    }
    this.tables = tables
  }

  /** The declaration of a watched table, by its qualified name. */
  table(qualified: string): TableDeclaration | undefined {
    return this.tables.get(qualified)
  }

  /** Every watched table, schema-qualified. */
  tableNames(): string[] {
    return [...this.tables.keys()]
  }

  /** The publication the replication source reads unless told otherwise. */
  get defaultPublication(): string {
    return `${this.schema}_changes`
  }

  /** The migration, for the app's own migration tool. Applying it again is harmless. */
  migrationSql(options: MigrationOptions): string {
    const { source, publication } = parseOptions(migrationSchema, options, 'MigrationOptions')
    const tables = [...this.tables.values()]
    return source === 'triggers'
      ? triggerMigrationSql(this.schema, this.channel, tables)
      : publicationMigrationSql(publication ?? this.defaultPublication, tables)
  }

  /** Applies the migration in one transaction (`applyMigration`: concurrent installs take turns). */
  async install(options: DatabaseOptions & MigrationOptions): Promise<void> {
    const sql = this.migrationSql({ source: options.source, publication: options.publication })
    const connection = parseOptions(z.object(databaseOptionsShape), options, 'InstallOptions')
    await applyMigration(connection, this.schema, sql)
  }

  /**
   * What `change` invalidates: the declared targets of its old and new row, merged, or the table's
   * `truncated` target. Undefined when nothing is to be invalidated or the table is not declared here.
   */
  targetsOf(change: Change): InvalidationTarget | undefined {
    const table = this.tables.get(change.table)
    if (table === undefined) return undefined
    if (change.operation === 'truncate') return table.truncated
    return mergeTargets(
      [change.old, change.new].map((row) => (row === undefined ? undefined : table.targets(row, change))),
    )
  }
}

/** Declares the watched tables; see `ChangeCapture`. */
export function defineChangeCapture(options: ChangeCaptureOptions): ChangeCapture {
  return new ChangeCapture(options)
}
