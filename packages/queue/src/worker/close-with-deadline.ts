import type { Worker } from 'bullmq'

/**
 * Closes BullMQ workers, waiting for in-flight jobs at most `deadlineMs` (BullMQ's own `close()` has no deadline).
 * `release` runs once they have drained, even after the deadline passed: the workers keep draining in the background
 * and give up their Redis connections when done. `forced` is true when the deadline won.
 */
export async function closeWithDeadline(
  workers: readonly Worker[],
  release: () => Promise<void>,
  deadlineMs: number,
): Promise<{ forced: boolean }> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs)
  })
  const drained = Promise.all(workers.map((worker) => worker.close()))
    .then(release)
    .then(() => 'drained' as const)
  const outcome = await Promise.race([drained, deadline])
  clearTimeout(timer)
  return { forced: outcome === 'deadline' }
}
