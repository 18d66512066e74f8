import { bookingCatalog, Dispatcher, QueueAdmin } from '@cachesaga/queue'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    dispatcher: Dispatcher<typeof bookingCatalog>
    queueAdmin: QueueAdmin
  }
}

/** The queues of the booking catalog: a dispatcher for webhooks, and their figures. */
export const queuesPlugin = fp(
  async (app) => {
    const { redis, QUEUE_PREFIX: prefix } = app.config
    const dispatcher = new Dispatcher({ redis, prefix, catalog: bookingCatalog })
    const queueAdmin = new QueueAdmin({ redis, prefix })
    app.decorate('dispatcher', dispatcher)
    app.decorate('queueAdmin', queueAdmin)
    app.addHook('onClose', async () => {
      await Promise.all([dispatcher.close(), queueAdmin.close()])
    })
  },
  { name: 'queues', dependencies: ['config'] },
)
