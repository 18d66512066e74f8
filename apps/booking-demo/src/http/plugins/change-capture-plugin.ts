import { ChangeListener, invalidateOnChange, RedisRestartReplay } from '@cachesaga/postgres'
import fp from 'fastify-plugin'
import { changeCapture } from '../../cache/change-capture.js'

/**
 * Invalidation from the database's own record of changes (@cachesaga/postgres): every committed edit of a
 * watched table, whoever made it, invalidates what `changeCapture` maps it to; the listener's checkpoint is
 * this instance's name, so it catches up after a restart. When core reports that Redis restarted or failed
 * over, the changes of the last five minutes are invalidated again (Redis may have lost those invalidations).
 */
export const changeCapturePlugin = fp(
  async (app) => {
    const listener = new ChangeListener({
      database: app.pool,
      capture: changeCapture,
      name: app.config.INSTANCE_NAME,
      onChange: invalidateOnChange({
        cache: app.cache,
        capture: changeCapture,
        onInvalidated: (change) => app.activity.add(`${change.operation} of ${change.table}: invalidated`),
      }),
    })
    listener.on('failure', (error) => app.activity.add(`change listener: ${(error as Error).message}`))
    const replay = new RedisRestartReplay({
      cache: app.cache,
      capture: changeCapture,
      database: app.pool,
      window: '5m',
    })
    replay.on('replayed', (report) =>
      app.activity.add(`Redis ${report.event.reason}: ${report.changes} recent changes invalidated again`),
    )
    replay.on('failure', (error) =>
      app.activity.add(`replay after a Redis restart: ${(error as Error).message}`),
    )
    await listener.start()
    replay.start()
    app.addHook('onClose', async () => {
      await replay.stop()
      await listener.stop()
    })
  },
  { name: 'change-capture', dependencies: ['config', 'database', 'cache', 'metrics'] },
)
