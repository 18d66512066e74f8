import type { InvalidationKind } from './report.js'

/** One target item, as the user named it, and what it invalidates: a key, or a generation counter. */
export interface KeyItem {
  kind: InvalidationKind
  target: string
  key: string
}

export interface DependencyItem {
  kind: InvalidationKind
  target: string
  /** Dependency suffix (`t:<tag>`, `s:<path>`, `S:<path>`, `f:<name>`). */
  dep: string
}
