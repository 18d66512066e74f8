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
export {
  appendToOutbox,
  installOutbox,
  type OutboxSchemaOptions,
  outboxSql,
  type Queryable,
} from './outbox/outbox.js'
export {
  type OutboxDispatcher,
  OutboxRelay,
  type OutboxRelayEvents,
  type OutboxRelayOptions,
} from './outbox/outbox-relay.js'
export {
  HistoryPruner,
  type HistoryPrunerEvents,
  type HistoryPrunerOptions,
  type PruneResult,
} from './pruning/history-pruner.js'
export { RecentChanges, type RecentChangesOptions } from './replay/recent-changes.js'
export type { RedisRestartEvent, RestartSignallingCache } from './replay/redis-restart.js'
export {
  RedisRestartReplay,
  type RedisRestartReplayEvents,
  type RedisRestartReplayOptions,
  type ReplayReport,
} from './replay/redis-restart-replay.js'
export {
  ReplicationListener,
  type ReplicationListenerEvents,
  type ReplicationListenerOptions,
} from './replication/replication-listener.js'
export {
  dropReplicationSlot,
  type ReplicationSlotHealth,
  type ReplicationSlotOptions,
  replicationSlotHealth,
  type SlotHealthOptions,
} from './replication/replication-slot.js'
export {
  installSagaStore,
  type SagaStoreSchemaOptions,
  sagaStoreSql,
} from './saga-store/install-saga-store.js'
export { PostgresSagaStore, type PostgresSagaStoreOptions } from './saga-store/postgres-saga-store.js'
