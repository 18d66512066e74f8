-- The outbox, the change capture and their pruning now come from @cachesaga/postgres: migrate() applies the
-- package's SQL (schema `cachesaga`) after these files. The demo's own versions go.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL) THEN
    RAISE EXCEPTION 'the old outbox still holds unpublished events: run the old relay until it is drained, then migrate';
  END IF;
END
$$;
DROP TRIGGER staff_changes ON staff;
DROP TRIGGER services_changes ON services;
DROP TRIGGER weekly_schedules_changes ON weekly_schedules;
DROP FUNCTION record_change();
DROP TABLE changes, change_listener_checkpoints;
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION notify_outbox();
DROP TABLE outbox;

-- The zone a booking's days are counted in (its staff member's, when the row was last written), so that a
-- captured row alone says which local days it makes stale.
ALTER TABLE bookings ADD COLUMN time_zone text;
UPDATE bookings b SET time_zone = s.time_zone FROM staff s WHERE s.id = b.staff_id;
ALTER TABLE bookings ALTER COLUMN time_zone SET NOT NULL;

CREATE FUNCTION booking_time_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.time_zone := (SELECT time_zone FROM staff WHERE id = NEW.staff_id);
  RETURN NEW;
END
$$;
CREATE TRIGGER bookings_time_zone BEFORE INSERT OR UPDATE ON bookings
  FOR EACH ROW EXECUTE FUNCTION booking_time_zone();
