import type { CliIo } from '../io.js'

const FRAMES = ['|', '/', '-', '\\']
const ERASE_LINE = '\r\x1b[K'

/**
 * An indeterminate progress line on stderr, redrawn in place and erased when done. Written only
 * when stderr is a terminal: piped output, CI logs and `--json` consumers never see it.
 * Indeterminate because core's pattern scan does not report progress yet.
 */
export function startProgress(stderr: CliIo['stderr'], label: string): { stop(): void } {
  if (stderr.isTTY !== true) return { stop: () => {} }
  const started = Date.now()
  let frame = 0
  const render = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    stderr.write(`${ERASE_LINE}${FRAMES[frame++ % FRAMES.length]} ${label} (${seconds}s)`)
  }
  render()
  const timer = setInterval(render, 100)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      stderr.write(ERASE_LINE)
    },
  }
}
