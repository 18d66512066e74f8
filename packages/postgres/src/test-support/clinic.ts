import type pg from 'pg'
import { type ChangeCapture, defineChangeCapture } from '../capture/change-capture.js'
import { watchTable } from '../capture/watch-table.js'

/** A small schema of the tests' own (not the demo's): doctors and their appointments by day. */
export async function createClinicTables(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE doctors (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE appointments (
      id int PRIMARY KEY,
      doctor_id int NOT NULL REFERENCES doctors (id),
      day date NOT NULL,
      note text
    );
    INSERT INTO doctors VALUES (1, 'Dr. Ada'), (2, 'Dr. Grace');
  `)
}

/** The clinic's declarations: an appointment invalidates its doctor's day; a doctor invalidates its profile. */
export function clinicCapture(schema = 'cachesaga'): ChangeCapture {
  return defineChangeCapture({
    schema,
    tables: [
      watchTable('appointments', {
        columns: ['id', 'doctor_id', 'day'],
        targets: (row) => ({ tags: [`doctor:${row.doctor_id}:day:${row.day}`] }),
        truncated: { scopes: ['appointments'] },
      }),
      watchTable('public.doctors', {
        columns: ['id', 'name'],
        targets: (row) => ({ keys: [`doctor:${row.id}`] }),
      }),
    ],
  })
}
