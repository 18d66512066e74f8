-- A calendar object (one CalDAV resource) can be a recurring event: it becomes one busy block per
-- occurrence, all under the object's id, replaced together when the object changes.
ALTER TABLE external_busy_blocks DROP CONSTRAINT external_busy_blocks_pkey;
ALTER TABLE external_busy_blocks ADD PRIMARY KEY (calendar_id, event_id, starts_at);

-- Recurring events were expanded up to this instant by the last full sync; once the sync window moves
-- far enough past it, the next sync reads the whole calendar again. Null: never fully synced.
ALTER TABLE external_calendar_sync_state ADD COLUMN window_ends_at timestamptz;

-- The simulated provider gave way to a real CalDAV server (Radicale in the tests and the demo).
DROP SCHEMA simulated_calendar CASCADE;
