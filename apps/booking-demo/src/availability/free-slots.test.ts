import { describe, expect, it } from 'vitest'
import { freeSlots, type Interval } from './free-slots.js'

const at = (time: string) => new Date(`2026-03-02T${time}:00Z`)
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) })
const starts = (slots: Interval[]) => slots.map((slot) => slot.start.toISOString().slice(11, 16))

describe('free slots', () => {
  it('cuts a window into back-to-back slots of the service length', () => {
    const slots = freeSlots({ windows: [span('09:00', '11:00')], busy: [], slotMinutes: 30 })
    expect(starts(slots)).toEqual(['09:00', '09:30', '10:00', '10:30'])
    expect(slots[0]).toEqual(span('09:00', '09:30'))
  })

  it('drops a last slot that would run past the end of the window', () => {
    const slots = freeSlots({ windows: [span('09:00', '10:45')], busy: [], slotMinutes: 30 })
    expect(starts(slots)).toEqual(['09:00', '09:30', '10:00'])
  })

  it('removes every slot a busy block overlaps, even partly', () => {
    const slots = freeSlots({
      windows: [span('09:00', '12:00')],
      busy: [span('10:15', '10:45')],
      slotMinutes: 30,
    })
    expect(starts(slots)).toEqual(['09:00', '09:30', '11:00', '11:30'])
  })

  it('keeps slots that only touch a busy block, since intervals are half-open', () => {
    const slots = freeSlots({
      windows: [span('09:00', '11:00')],
      busy: [span('09:30', '10:00')],
      slotMinutes: 30,
    })
    expect(starts(slots)).toEqual(['09:00', '10:00', '10:30'])
  })

  it('keeps the grid of each window when busy blocks overlap each other', () => {
    const slots = freeSlots({
      windows: [span('13:00', '15:00'), span('09:00', '10:00')],
      busy: [span('13:00', '13:50'), span('13:40', '14:00'), span('08:00', '09:10')],
      slotMinutes: 60,
    })
    expect(starts(slots)).toEqual(['14:00'])
  })

  it('offers nothing when the service is longer than every window', () => {
    expect(freeSlots({ windows: [span('09:00', '09:45')], busy: [], slotMinutes: 60 })).toEqual([])
  })
})
