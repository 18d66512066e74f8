-- Busy time copied from each staff member's external calendar by the sync routine.
CREATE TABLE external_busy_blocks (
  calendar_id text NOT NULL,
  event_id text NOT NULL,
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  PRIMARY KEY (calendar_id, event_id),
  CHECK (starts_at < ends_at)
);
CREATE INDEX external_busy_blocks_staff_time ON external_busy_blocks USING gist (staff_id, tstzrange(starts_at, ends_at));

-- Where the last sync of a calendar stopped; the provider's token, stored in the same transaction as the blocks.
CREATE TABLE external_calendar_sync_state (
  calendar_id text PRIMARY KEY,
  sync_token text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now()
);
