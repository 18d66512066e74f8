let counter = 0

/** A namespace no other test in this process uses, so tests sharing one Redis never see each other's keys. */
export function freshNamespace(label: string): string {
  counter++
  return `${label}-${process.pid}-${counter}`
}
