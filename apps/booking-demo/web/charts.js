// Small line charts in plain SVG for the dashboard: no library, nothing from the network.
// drawChart(svg, samples, options) draws one series: samples are { at, value } with value null for "no data".
const SVG = 'http://www.w3.org/2000/svg'

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/**
 * Draws `samples` into `svg` (its viewBox is 300 x 90): a line over the time window, the highest value on the
 * scale at the top left, the latest value at the top right. `options.format(value)` renders a value;
 * `options.floor` is the least top of the scale (so a quiet series is not drawn as a full-height wiggle).
 */
export function drawChart(svg, samples, options) {
  const width = 300
  const height = 90
  const top = 18
  const { format, floor = 0, windowMs } = options
  const now = samples.length > 0 ? samples[samples.length - 1].at : Date.now()
  const from = now - windowMs
  const values = samples.filter((s) => s.value !== null && s.at >= from)
  const max = Math.max(floor, ...values.map((s) => s.value))
  const x = (at) => ((at - from) / windowMs) * width
  const y = (value) => height - (max === 0 ? 0 : (value / max) * (height - top))
  svg.replaceChildren()
  svg.append(element('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'axis' }))
  svg.append(element('text', { x: 2, y: 11, class: 'scale' }, `max ${format(max)}`))
  const latest = values[values.length - 1]
  svg.append(
    element(
      'text',
      { x: width - 2, y: 11, class: 'latest', 'text-anchor': 'end' },
      latest ? format(latest.value) : 'no data',
    ),
  )
  // A gap (no data) breaks the line, so a quiet minute is not drawn as a slope.
  let run = []
  const flush = () => {
    if (run.length > 0) svg.append(element('polyline', { points: run.join(' '), class: 'series' }))
    run = []
  }
  for (const sample of samples) {
    if (sample.at < from) continue
    if (sample.value === null) flush()
    else run.push(`${x(sample.at).toFixed(1)},${y(sample.value).toFixed(1)}`)
  }
  flush()
}
