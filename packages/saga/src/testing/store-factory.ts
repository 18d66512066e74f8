import { pathToFileURL } from 'node:url'
import type { SagaStore } from '../store/saga-store.js'

/** Makes a store on a fresh namespace; the default export of a contract's `storeModule`. */
export type SagaStoreFactory = (namespace: string) => SagaStore | Promise<SagaStore>

/** The factory a store module exports by default. */
export async function loadStoreFactory(storeModule: string): Promise<SagaStoreFactory> {
  const url = storeModule.startsWith('file:') ? storeModule : pathToFileURL(storeModule).href
  const factory = ((await import(url)) as { default?: unknown }).default
  if (typeof factory !== 'function') {
    throw new Error(`${storeModule}: the default export is not a function (namespace) => SagaStore`)
  }
  return factory as SagaStoreFactory
}
