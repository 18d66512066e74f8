-- Tenants and what they offer: staff, services and each staff member's weekly working hours.
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL
);

CREATE TABLE staff (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  name text NOT NULL,
  -- Working hours are wall-clock times in this zone; PostgreSQL turns them into instants (DST included).
  time_zone text NOT NULL CHECK (timestamptz '2000-01-01 00:00Z' AT TIME ZONE time_zone IS NOT NULL),
  -- The staff member's calendar at the external provider, kept in sync as busy blocks.
  external_calendar_id text UNIQUE
);

CREATE TABLE services (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  name text NOT NULL,
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480)
);

CREATE TABLE weekly_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  -- 0 = Sunday ... 6 = Saturday, as extract(dow ...) counts.
  weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  starts_at time NOT NULL,
  ends_at time NOT NULL,
  CHECK (starts_at < ends_at)
);
CREATE INDEX weekly_schedules_staff_weekday ON weekly_schedules (staff_id, weekday);
