import { readFile } from 'node:fs/promises'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import type { ControllerHandlerReturnType } from '@bull-board/api/typings/app'
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
 * dashboard, with its scripts served from here: the page needs nothing from the network) and bull-board
 * under `/admin/queues`. `operator-auth`, registered before these in the operators' scope, admits the caller.
 */
const routes: FastifyPluginAsyncZod = async (app) => {
  const [page, script, charts] = await Promise.all([
    readFile(new URL('dashboard.html', WEB), 'utf8'),
    readFile(new URL('dashboard.js', WEB), 'utf8'),
    readFile(new URL('charts.js', WEB), 'utf8'),
  ])
  app.get('/admin/cache/health', () => collectHealth(app))
  app.get('/admin/metrics/history', () => ({ intervalMs: 2_000, samples: app.history.list() }))
  app.get('/admin', (_request, reply) => reply.type('text/html; charset=utf-8').send(page))
  app.get('/admin/dashboard.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(script),
  )
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
    options: {
      uiConfig: {},
      handlerHooks: {
        // The gate (operator-auth) refuses a viewer's actions; this tells bull-board's page, so it offers none.
        after: (context, result) =>
          context.route === '/api/queues' &&
          app.operators.roleOf(context.request.headers.authorization) === 'viewer'
            ? readOnly(result)
            : result,
      },
    },
  })
  await app.register(board.registerPlugin(), { prefix: '/admin/queues' })
}

/** bull-board's queue list with every queue read-only, as a viewer's page should show it. */
function readOnly(result: ControllerHandlerReturnType): ControllerHandlerReturnType {
  const body = result.body as { queues?: unknown }
  if (!Array.isArray(body.queues)) return result
  const queues = (body.queues as object[]).map((queue) => ({ ...queue, readOnlyMode: true }))
  return { ...result, body: { ...body, queues } }
}

export const adminRoutes = fp(routes, {
  name: 'admin-routes',
  dependencies: ['config', 'database', 'cache', 'queues', 'metrics', 'booking-flows', 'operator-auth'],
  encapsulate: true,
})
