import fp from 'fastify-plugin'
import { BookingDemoError } from '../../errors.js'
import { verifyWebhook } from './webhook-signature.js'

/**
 * Stands in front of every route of the scope it is registered in (the calendar providers' group): the body is
 * kept as the bytes that arrived, the signature over them is checked (`verifyWebhook`: the scope's secret, the
 * replay window), and only then is the body parsed as JSON and validated. So nothing of an unsigned delivery is
 * parsed or acted on, and a signature can only be checked over exactly what was signed.
 */
export const signedWebhooksPlugin = fp(
  async (app) => {
    const { WEBHOOK_SECRET: secret, WEBHOOK_TOLERANCE: toleranceMs } = app.config
    // fastify's own JSON parser (with its prototype-poisoning guards), run after the signature check.
    const parseJson = app.getDefaultJsonParser('error', 'error')
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    )
    app.addHook('preValidation', async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      verifyWebhook(secret, request.headers, raw, { toleranceMs })
      // No body at all is left to the route's schema, which names what is missing.
      if (raw.length === 0) return
      request.body = await new Promise((resolve, reject) => {
        parseJson(request, raw.toString('utf8'), (error, parsed) => {
          if (error) {
            reject(
              new BookingDemoError('BOOKING_ERR_INVALID_INPUT', `body: ${error.message}`, {
                cause: error,
                details: { field: 'body' },
              }),
            )
          } else resolve(parsed)
        })
      })
    })
  },
  { name: 'signed-webhooks', dependencies: ['config'] },
)
