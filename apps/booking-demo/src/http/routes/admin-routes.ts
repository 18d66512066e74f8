import { readFile } from 'node:fs/promises'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../../api/api-context.js'
import { collectHealth } from '../../health/collect-health.js'

/** The page sits in `web/`; the same relative path from `src/http/routes` and `dist/http/routes`. */
const DASHBOARD = new URL('../../../web/dashboard.html', import.meta.url)

/** `GET /admin/cache/health` (JSON), `GET /admin` (the live dashboard) and bull-board under `/admin/queues`. */
export function adminRoutes(context: ApiContext) {
  return async (app: FastifyInstance) => {
    const page = await readFile(DASHBOARD, 'utf8')
    app.get('/admin/cache/health', () => collectHealth(context))
    app.get('/admin', (_request, reply) => reply.type('text/html; charset=utf-8').send(page))

    const board = new FastifyAdapter()
    board.setBasePath('/admin/queues')
    createBullBoard({
      queues: context.boardQueues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
      serverAdapter: board,
    })
    await app.register(board.registerPlugin(), { prefix: '/admin/queues' })
  }
}
