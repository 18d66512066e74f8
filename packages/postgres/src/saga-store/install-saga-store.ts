import { z } from 'zod'
import { applyMigration } from '../database/apply-migration.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { identifierSchema, parseOptions } from '../parse-options.js'
import { sagaStoreMigrationSql } from './saga-store-sql.js'

export interface SagaStoreSchemaOptions {
  /** The schema that holds the saga tables and functions. Default `cachesaga`. */
  schema?: string
}

const schemaOptions = z.object({ schema: identifierSchema.default('cachesaga') })

/** The saga store's migration, for the app's own migration tool. Applying it again is harmless. */
export function sagaStoreSql(options: SagaStoreSchemaOptions = {}): string {
  return sagaStoreMigrationSql(parseOptions(schemaOptions, options, 'SagaStoreSchemaOptions').schema)
}

/** Applies the saga store's migration in one transaction. */
export async function installSagaStore(options: DatabaseOptions & SagaStoreSchemaOptions): Promise<void> {
  const parsed = parseOptions(
    z.object({ ...databaseOptionsShape, ...schemaOptions.shape }),
    options,
    'InstallSagaStoreOptions',
  )
  await applyMigration(parsed, parsed.schema, sagaStoreMigrationSql(parsed.schema))
}
