import type { Verifier, WarmDefinition } from '@cachesaga/core'

/**
 * A source of truth for the `check` and `warm` tests, loaded by the CLI through `--verifiers` and
 * `--warmers` exactly as an operator's module would be; the tests change `rows` to make copies stale.
 */
export const rows = new Map<string, unknown>()

export const verifiers: Verifier[] = [{ match: 'slot:*', load: (key) => rows.get(key) ?? null }]

export const warmers: Record<string, WarmDefinition> = {
  slots: {
    producer: (tenant) => [`slot:${tenant}:1`, `slot:${tenant}:2`],
    loader: (key) => rows.get(key) ?? null,
  },
  broken: {
    keys: ['slot:broken'],
    loader: () => {
      throw new Error('source down')
    },
  },
}
