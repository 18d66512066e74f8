import fp from 'fastify-plugin'
import { LatencyWindow } from '../../metrics/latency-window.js'
import { MetricsHistory } from '../../metrics/metrics-history.js'
import { RecentActivity } from '../../metrics/recent-activity.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Durations of this instance's last 1,000 availability reads. */
    latency: LatencyWindow
    /** The last few minutes of figures, for the dashboard's charts. */
    history: MetricsHistory
    activity: RecentActivity
  }
}

/** What this instance measures about itself, for `/admin`. */
export const metricsPlugin = fp(
  async (app) => {
    const history = new MetricsHistory(app.cache, app.queueAdmin)
    app.decorate('latency', new LatencyWindow())
    app.decorate('history', history)
    app.decorate('activity', new RecentActivity())
    history.start()
    app.addHook('onClose', () => history.stop())
  },
  { name: 'metrics', dependencies: ['cache', 'queues'] },
)
