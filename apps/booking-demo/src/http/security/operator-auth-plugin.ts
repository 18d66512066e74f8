import fp from 'fastify-plugin'
import { errorReply } from '../reply-error.js'
import { OperatorCredentials } from './operator-credentials.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The operators' credentials, for what must know the caller's role beyond the gate (bull-board's UI). */
    operators: OperatorCredentials
  }
}

/** What a viewer may do: look. Every bull-board action is a PUT, POST or PATCH. */
const READ_METHODS = new Set(['GET', 'HEAD'])

/**
 * Stands in front of every route of the scope it is registered in (the operators' group): HTTP Basic with the
 * users `operator` and `viewer`, checked before anything else of the request runs. No or a wrong credential is
 * 401 `BOOKING_ERR_UNAUTHORIZED` with a `WWW-Authenticate` challenge, so a browser asks for it; the viewer asking
 * for anything but a read is 403 `BOOKING_ERR_FORBIDDEN`. The hook answers these itself rather than throwing:
 * bull-board's routes have an error handler of their own, which would answer in its shape instead of ours.
 */
export const operatorAuthPlugin = fp(
  async (app) => {
    const operators = new OperatorCredentials({
      operator: app.config.ADMIN_OPERATOR_PASSWORD,
      viewer: app.config.ADMIN_VIEWER_PASSWORD,
    })
    app.decorate('operators', operators)
    app.addHook('onRequest', async (request, reply) => {
      const role = operators.roleOf(request.headers.authorization)
      if (role === undefined) {
        const reason = request.headers.authorization === undefined ? 'missing' : 'wrong'
        const { status, body } = errorReply(
          'BOOKING_ERR_UNAUTHORIZED',
          reason === 'missing' ? 'operator credentials are required' : 'the operator credentials are wrong',
          { reason },
        )
        return reply
          .status(status)
          .header('www-authenticate', 'Basic realm="booking-demo operators", charset="UTF-8"')
          .send(body)
      }
      if (role === 'viewer' && !READ_METHODS.has(request.method)) {
        const { status, body } = errorReply(
          'BOOKING_ERR_FORBIDDEN',
          'the viewer may only read; this needs the operator',
          { role, method: request.method },
        )
        return reply.status(status).send(body)
      }
    })
  },
  { name: 'operator-auth', dependencies: ['config'] },
)
