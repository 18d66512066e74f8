/**
 * Waits for `work` to settle, at most `ms`; never rejects. For clean-up steps (closing a BullMQ handle whose start-up
 * still waits for an unreachable Redis) that must not hold their caller forever.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([work.then(noop, noop), deadline])
  clearTimeout(timer)
}

function noop(): void {}
