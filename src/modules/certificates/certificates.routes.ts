import { Type } from 'typebox';
import { operationContext } from '../../http/access-guard.js';
import type { App } from '../../http/fastify-types.js';
import {
  CertificateListSchema,
  CertificateParams,
  CertificateSchema,
  ListCertificatesQuery,
} from './certificates.schemas.js';

const tags = ['certificates'];
/** Issued certificates are the devices' identities: reading them is asset management, like revoking them. */
const read = { access: { kind: 'read', scope: 'asset_management' } } as const;
const write = { access: { kind: 'write', scope: 'asset_management' } } as const;
/** Anyone: a device fetches the CA to verify its certificate chain, a broker to trust the devices' certificates. */
const anyone = { access: { kind: 'public' } } as const;

export async function certificatesRoutes(app: App): Promise<void> {
  const { certificates } = app.services;

  app.get(
    '/api/v1/registry/ca.pem',
    {
      config: anyone,
      schema: {
        tags,
        summary: "Warden's CA certificate (PEM): the issuer of device client certificates",
        security: [],
        response: {
          200: {
            description: 'The CA certificate',
            content: { 'application/x-pem-file': { schema: Type.String() } },
          },
        },
      },
    },
    async (_request, reply) =>
      reply.type('application/x-pem-file').send(await certificates.caCertificatePem()),
  );

  app.get(
    '/api/v1/registry/ca.crl',
    {
      config: anyone,
      schema: {
        tags,
        summary:
          "Warden's certificate revocation list (PEM): revoked certificates and those of deleted users, valid 7 days",
        security: [],
        response: {
          200: {
            description: 'The CRL, signed now',
            content: { 'application/x-pem-file': { schema: Type.String() } },
          },
        },
      },
    },
    async (_request, reply) =>
      reply.type('application/x-pem-file').send(await certificates.revocationListPem()),
  );

  app.get(
    '/api/v1/certificates',
    {
      config: read,
      schema: {
        tags,
        summary: 'List the certificates Warden issued, newest first, optionally of one user',
        querystring: ListCertificatesQuery,
        response: { 200: CertificateListSchema },
      },
    },
    (request) => certificates.list(request.query),
  );

  app.post(
    '/api/v1/certificates/:serial/revoke',
    {
      config: write,
      schema: {
        tags,
        summary: 'Revoke a certificate: refused at the next CONNECT, its live MQTT connections close',
        params: CertificateParams,
        response: { 200: CertificateSchema },
      },
    },
    (request) => certificates.revoke(operationContext(request), request.params.serial),
  );
}
