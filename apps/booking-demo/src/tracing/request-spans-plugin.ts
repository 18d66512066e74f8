import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import fp from 'fastify-plugin'

/** The span of each request in flight, with its context: what the route's handler runs in. */
const requestContexts = new WeakMap<FastifyRequest, Context>()

/**
 * A SERVER span per request (`POST /bookings`, named by route, as OpenTelemetry's HTTP conventions say), the child of
 * the caller's span when the request carries a W3C `traceparent`, and the parent of everything the route does: its
 * handler runs inside the span's context, so the saga it runs, the cache it reads and what it dispatches are in the
 * request's trace. The handler itself is wrapped (at `onRoute`), not entered from a hook: a hook's context does not
 * survive the reading of the body. Registered only while tracing is on (see trace-to-files.ts).
 */
export const requestSpansPlugin = fp(
  async (app) => {
    const tracer = trace.getTracer('@cachesaga/booking-demo')
    app.addHook('onRoute', (route) => {
      const handler = route.handler as RouteHandlerMethod
      route.handler = function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
        const within = requestContexts.get(request)
        return within === undefined
          ? handler.call(this as never, request, reply)
          : context.with(within, () => handler.call(this as never, request, reply))
      } as RouteHandlerMethod
    })
    app.addHook('onRequest', async (request) => {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers)
      const route = request.routeOptions.url
      const span = tracer.startSpan(
        route === undefined ? request.method : `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'url.path': request.url.split('?')[0],
            ...(route !== undefined && { 'http.route': route }),
          },
        },
        parent,
      )
      requestContexts.set(request, trace.setSpan(parent, span))
    })
    /** Ends the request's span: with the answer's status code, or without one when the client went away first. */
    const end = (request: FastifyRequest, statusCode: number | undefined) => {
      const span = trace.getSpan(requestContexts.get(request) ?? ROOT_CONTEXT)
      if (span === undefined) return
      requestContexts.delete(request)
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode)
      if (statusCode === undefined || statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    }
    app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode))
    app.addHook('onRequestAbort', async (request) => end(request, undefined))
  },
  { name: 'request-spans' },
)
