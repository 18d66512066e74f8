#!/usr/bin/env node
// The booking demo (apps/booking-demo) is not built yet. Say so plainly instead of pretending.
console.error('The booking demo is not built yet (apps/booking-demo, tracked as the booking-demo issue).')
console.error('What works today: `pnpm test` runs every package test against real Redis and PostgreSQL.')
process.exit(1)
