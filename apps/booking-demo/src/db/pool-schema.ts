import type pg from 'pg'
import { z } from 'zod'

/** Accepts a `pg.Pool` (anything that can hand out connections); the options of every database reader use it. */
export const poolSchema = z.custom<pg.Pool>(
  (value) => typeof (value as pg.Pool | undefined)?.connect === 'function',
  'a pg.Pool',
)
