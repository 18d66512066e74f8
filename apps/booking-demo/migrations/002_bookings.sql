CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE bookings (
  -- Chosen by the caller, so a retried booking step finds its own earlier write instead of booking twice.
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  staff_id uuid NOT NULL REFERENCES staff (id),
  service_id uuid NOT NULL REFERENCES services (id),
  customer_email text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at),
  -- The database, not the cache, decides: two confirmed bookings of one staff member never overlap.
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (staff_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status = 'confirmed')
);
