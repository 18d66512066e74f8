// The dashboard's page script: a file of its own, so the page runs under a Content-Security-Policy without
// 'unsafe-inline' scripts. Reads the health JSON every 2 s with the credentials the browser logged in with.
import { drawChart } from '/admin/charts.js'

const $ = (id) => document.getElementById(id)
const cell = (value) => {
  const td = document.createElement('td')
  td.textContent = value ?? '-'
  return td
}
const row = (cells) => {
  const tr = document.createElement('tr')
  for (const value of cells) tr.append(cell(value))
  return tr
}
const ms = (value) => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`
const charts = [
  ['chart-hit-rate', 'hitRate', (v) => `${(v * 100).toFixed(1)} %`, 1],
  ['chart-p95', 'availabilityP95Ms', ms, 1],
  ['chart-invalidations', 'invalidationsPerSecond', (v) => `${v.toFixed(1)}/s`, 1],
  ['chart-bus-lag', 'busLagMs', ms, 1],
  ['chart-queue-lag', 'queueLagMs', ms, 5],
]
async function refreshCharts() {
  const { intervalMs, samples } = await (await fetch('/admin/metrics/history')).json()
  for (const [id, field, format, floor] of charts) {
    drawChart(
      $(id),
      samples.map((s) => ({ at: s.at, value: s[field] })),
      { format, floor, windowMs: 150 * intervalMs },
    )
  }
}
async function refresh() {
  try {
    const health = await (await fetch('/admin/cache/health')).json()
    $('status').textContent = health.status
    $('status').className = `status ${health.status}`
    $('instance').textContent = health.instance
    $('reasons').textContent = health.reasons.length > 0 ? `Why: ${health.reasons.join('; ')}.` : ''
    $('hit-rate').textContent =
      health.hit_rate === null ? 'under 100 reads' : `${(health.hit_rate * 100).toFixed(1)} %`
    $('reads').textContent = health.latencyMs.count
    $('p95').textContent =
      health.latencyMs.p95 === null ? 'no reads' : `${health.latencyMs.p95.toFixed(2)} ms`
    $('consistency').textContent =
      health.consistency_score === null ? 'not checked yet' : `${health.consistency_score} %`
    $('recommendations').textContent = health.recommendations.join(' ')
    $('loader-calls').textContent = health.cache.loader.calls
    $('bus').textContent = `${health.cache.bus.published} / ${health.cache.bus.received}`
    $('stores').textContent =
      `${health.redis === 'reachable' ? 'up' : 'DOWN'} / ${health.postgres === 'reachable' ? 'up' : 'DOWN'}`
    $('queues').replaceChildren(
      ...Object.entries(health.queues.error ? {} : health.queues).map(([name, q]) =>
        row([
          name,
          q.waiting,
          q.active,
          q.delayed,
          q.failed,
          q.completed,
          q.lagP50Ms === undefined ? '-' : `≤ ${q.lagP50Ms} ms`,
        ]),
      ),
    )
    $('sagas').replaceChildren(
      ...Object.entries(health.sagas.error ? {} : health.sagas).map(([state, count]) => row([state, count])),
    )
    if (health.recentActivity.length > 0) {
      $('activity').replaceChildren(
        ...health.recentActivity.map((entry) => {
          const li = document.createElement('li')
          li.textContent = `${entry.at.slice(11, 19)}  ${entry.text}`
          return li
        }),
      )
    }
    await refreshCharts()
    $('updated').textContent = new Date().toLocaleTimeString()
  } catch {
    $('status').textContent = 'unreachable'
    $('status').className = 'status critical'
  }
}
refresh()
setInterval(refresh, 2000)
