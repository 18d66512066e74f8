import { defineChangeCapture, watchTable } from '@cachesaga/postgres'

/** The benchmark's table and declaration: each change invalidates its item's key; `v` carries its sequence number. */
export const BENCH_TABLE_SQL = 'CREATE TABLE bench_items (id int PRIMARY KEY, v bigint NOT NULL)'

export const benchCapture = defineChangeCapture({
  tables: [
    watchTable('bench_items', { columns: ['id', 'v'], targets: (row) => ({ keys: [`item:${row.id}`] }) }),
  ],
})
