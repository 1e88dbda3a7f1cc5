import type { App } from '../../http/fastify-types.js';

/**
 * `GET /metrics`: the Prometheus text exposition of this instance (docs/metrics.md). Admitted by the access
 * guard (`scrape`: a scrape token or an address in WARDEN_METRICS_ALLOW_FROM); hidden from the OpenAPI document,
 * which describes the management API.
 */
export async function metricsRoutes(app: App): Promise<void> {
  const { metrics } = app.services;
  app.get(
    '/metrics',
    { config: { access: { kind: 'scrape' } }, schema: { hide: true } },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}
