-- Every edit of staff, services and schedules, by the app or by hand in psql, lands here and is announced.
CREATE TABLE changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The writing transaction: ids can commit out of order, transaction ids tell a reader what may still come.
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id uuid NOT NULL,
  entity text NOT NULL CHECK (entity IN ('staff', 'service', 'schedule')),
  entity_id uuid NOT NULL,
  -- Null for a service: its duration shapes the slots of every staff member of the tenant.
  staff_id uuid,
  operation text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_xid ON changes (xid);

-- How far each change listener has read, so one that was down catches up instead of missing edits.
CREATE TABLE change_listener_checkpoints (
  listener text PRIMARY KEY,
  -- Every transaction older than this had finished when the listener last read the table.
  horizon xid8 NOT NULL
);

CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  entity text := TG_ARGV[0];
  row_data jsonb;
  change_id bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN row_data := to_jsonb(OLD); ELSE row_data := to_jsonb(NEW); END IF;
  INSERT INTO changes (tenant_id, entity, entity_id, staff_id, operation)
  VALUES (
    (row_data ->> 'tenant_id')::uuid,
    entity,
    (row_data ->> 'id')::uuid,
    CASE entity WHEN 'staff' THEN (row_data ->> 'id')::uuid WHEN 'schedule' THEN (row_data ->> 'staff_id')::uuid END,
    lower(TG_OP)
  )
  RETURNING id INTO change_id;
  PERFORM pg_notify('booking_changes', change_id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER staff_changes AFTER INSERT OR UPDATE OR DELETE ON staff
  FOR EACH ROW EXECUTE FUNCTION record_change('staff');
CREATE TRIGGER services_changes AFTER INSERT OR UPDATE OR DELETE ON services
  FOR EACH ROW EXECUTE FUNCTION record_change('service');
CREATE TRIGGER weekly_schedules_changes AFTER INSERT OR UPDATE OR DELETE ON weekly_schedules
  FOR EACH ROW EXECUTE FUNCTION record_change('schedule');
