import { Readable } from 'node:stream';
import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import type { AuditFilter } from './audit.repository.js';

const tags = ['audit'];
const access = { access: { kind: 'read', scope: 'log_management' } } as const;

const FilterProperties = {
  actor: Type.Optional(Type.String({ maxLength: 200, description: 'Actor name, e.g. `user:alice`, `cli`' })),
  action: Type.Optional(
    Type.String({ maxLength: 100, description: 'Exact action, or a prefix ending in `.`' }),
  ),
  target: Type.Optional(Type.String({ maxLength: 300 })),
  outcome: Type.Optional(Type.Enum(['success', 'failure'], { type: 'string' })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
};

const ListQuery = Type.Object(
  {
    ...FilterProperties,
    page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(
  { ...FilterProperties, format: Type.Enum(['csv', 'json'], { type: 'string' }) },
  { additionalProperties: false },
);

const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({ type: Type.String(), name: Type.String() }),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.Enum(['success', 'failure'], { type: 'string' }),
  ip: Type.String(),
  requestId: Type.String(),
  details: Type.Object({}, { additionalProperties: true }),
});

function toFilter(query: Static<typeof ListQuery> | Static<typeof ExportQuery>): AuditFilter {
  return {
    ...(query.actor ? { actor: query.actor } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.target ? { target: query.target } : {}),
    ...(query.outcome ? { outcome: query.outcome } : {}),
    ...(query.from ? { from: Date.parse(query.from) } : {}),
    ...(query.to ? { to: Date.parse(query.to) } : {}),
  };
}

export async function auditRoutes(app: App): Promise<void> {
  const { audit } = app.services;

  app.get(
    '/api/v1/audit',
    {
      config: access,
      schema: {
        tags,
        summary: 'Query the audit log (newest first)',
        querystring: ListQuery,
        response: {
          200: Type.Object({
            items: Type.Array(AuditEventSchema),
            total: Type.Integer(),
            page: Type.Integer(),
            pageSize: Type.Integer(),
          }),
        },
      },
    },
    async (request) => {
      const page = request.query.page ?? 1;
      const pageSize = request.query.pageSize ?? 25;
      return { ...(await audit.list(toFilter(request.query), page, pageSize)), page, pageSize };
    },
  );

  app.get(
    '/api/v1/audit/export',
    {
      config: access,
      schema: {
        tags,
        summary: 'Export the audit log as CSV or JSON (oldest first)',
        querystring: ExportQuery,
      },
    },
    async (request, reply) => {
      const { format } = request.query;
      const stamp = new Date().toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="warden-audit-${stamp}.${format}"`)
        .send(Readable.from(audit.export(toFilter(request.query), format)));
    },
  );
}
