export type { CapturedRow, Change, ChangeHandler, ChangeOperation } from './capture/change.js'
export {
  type CaptureSource,
  type ChangeCapture,
  type ChangeCaptureOptions,
  defineChangeCapture,
  type MigrationOptions,
} from './capture/change-capture.js'
export { type TableDeclaration, type WatchTableOptions, watchTable } from './capture/watch-table.js'
export { describeDatabase, redactDatabaseUrl } from './database/describe-database.js'
export type { DatabaseOptions, PostgresConnection } from './database/postgres-connection.js'
export { PostgresError, type PostgresErrorCode } from './errors.js'
export { type InvalidateOnChangeOptions, invalidateOnChange } from './invalidation/invalidate-on-change.js'
export type { InvalidatingCache } from './invalidation/invalidating-cache.js'
export {
  ChangeListener,
  type ChangeListenerEvents,
  type ChangeListenerOptions,
} from './listener/change-listener.js'
