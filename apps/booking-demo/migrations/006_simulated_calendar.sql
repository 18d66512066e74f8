-- The simulated external calendar provider keeps its state here so every process (API, workers) sees one
-- provider. It stands in for a remote service: the app's own tables never join against these.
CREATE SCHEMA simulated_calendar;

CREATE TABLE simulated_calendar.calendars (
  id text PRIMARY KEY,
  -- Bumped under the row lock by every write, so versions commit in order and a token never skips one.
  version bigint NOT NULL DEFAULT 0
);

CREATE TABLE simulated_calendar.events (
  calendar_id text NOT NULL REFERENCES simulated_calendar.calendars (id),
  id text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  cancelled boolean NOT NULL DEFAULT false,
  -- Set on events the booking app wrote for its own bookings.
  booking_id uuid,
  version bigint NOT NULL,
  PRIMARY KEY (calendar_id, id)
);
CREATE INDEX simulated_calendar_events_version ON simulated_calendar.events (calendar_id, version);
