import { readFile } from 'node:fs/promises'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import { closeRedis, openRedis } from '@cachesaga/common'
import { bookingCatalog } from '@cachesaga/queue'
import { Queue } from 'bullmq'
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { collectHealth } from '../../health/collect-health.js'

/** The page and its script sit in `web/`; the same relative path from `src/http/routes` and `dist/http/routes`. */
const WEB = new URL('../../../web/', import.meta.url)

/**
 * `GET /admin/cache/health` (JSON), `GET /admin/metrics/history` (the charts' points), `GET /admin` (the live
 * dashboard, with its chart script served from here: the page needs nothing from the network) and bull-board
 * under `/admin/queues`.
 */
const routes: FastifyPluginAsyncZod = async (app) => {
  const [page, charts] = await Promise.all([
    readFile(new URL('dashboard.html', WEB), 'utf8'),
    readFile(new URL('charts.js', WEB), 'utf8'),
  ])
  app.get('/admin/cache/health', () => collectHealth(app))
  app.get('/admin/metrics/history', () => ({ intervalMs: 2_000, samples: app.history.list() }))
  app.get('/admin', (_request, reply) => reply.type('text/html; charset=utf-8').send(page))
  app.get('/admin/charts.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(charts))

  // BullMQ handles for bull-board only (producing and consuming go through @cachesaga/queue). BullMQ wants
  // blocking-safe clients: no per-request retry limit.
  const boardRedis = openRedis(app.config.redis, { maxRetriesPerRequest: null })
  boardRedis.on('error', () => {})
  const queues = bookingCatalog.queues.map(
    (name) => new Queue(name, { connection: boardRedis, prefix: app.config.QUEUE_PREFIX }),
  )
  // Redis being away shows on the dashboard; BullMQ would print every reconnect attempt without a listener.
  for (const queue of queues) queue.on('error', () => {})
  app.addHook('onClose', async () => {
    await Promise.all(queues.map((queue) => queue.close()))
    await closeRedis(boardRedis, 1_000)
  })
  const board = new FastifyAdapter()
  board.setBasePath('/admin/queues')
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter: board,
  })
  await app.register(board.registerPlugin(), { prefix: '/admin/queues' })
}

export const adminRoutes = fp(routes, {
  name: 'admin-routes',
  dependencies: ['config', 'database', 'cache', 'queues', 'metrics', 'booking-flows'],
  encapsulate: true,
})
