import type { CliIo } from '../io.js'

const ERASE_LINE = '\r\x1b[K'
const WIDTH = 20

/**
 * A progress bar on stderr, redrawn in place on each `update` (and every 100 ms for the clock) and
 * erased when done. Written only when stderr is a terminal: piped output, CI logs and `--json`
 * consumers never see it.
 */
export function startProgress(
  stderr: CliIo['stderr'],
  label: string,
): { update(fraction: number): void; stop(): void } {
  if (stderr.isTTY !== true) return { update: () => {}, stop: () => {} }
  const started = Date.now()
  let fraction = 0
  const render = () => {
    const filled = Math.round(fraction * WIDTH)
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    stderr.write(`${ERASE_LINE}${bar} ${percent} ${label} (${seconds}s)`)
  }
  render()
  const timer = setInterval(render, 100)
  timer.unref()
  return {
    update: (next) => {
      fraction = Math.min(1, Math.max(fraction, next))
      render()
    },
    stop: () => {
      clearInterval(timer)
      stderr.write(ERASE_LINE)
    },
  }
}
