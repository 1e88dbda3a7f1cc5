import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, redactedUrl } from './logger.js';

describe('request URLs in log lines', () => {
  it('keep their path and ordinary parameters, and lose the values of credentials', () => {
    expect(redactedUrl('/api/v1/users?page=2&pageSize=25')).toBe('/api/v1/users?page=2&pageSize=25');
    expect(redactedUrl('/api/v1/auth/sso/corp/callback?code=c0de&state=s7&iss=https%3A%2F%2Fop')).toBe(
      '/api/v1/auth/sso/corp/callback?code=redacted&state=redacted&iss=https%3A%2F%2Fop',
    );
    expect(redactedUrl('/x?Token=a&token=b&access_token=c')).toBe(
      '/x?Token=redacted&token=redacted&access_token=redacted',
    );
    expect(redactedUrl('/healthz')).toBe('/healthz');
  });

  it('an SSO callback logged by the server shows neither its code nor its state', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = Fastify({ loggerInstance: pino(loggerOptions('info'), sink) });
    app.get('/api/v1/auth/sso/:name/callback', async () => 'ok');
    await app.inject({ url: '/api/v1/auth/sso/corp/callback?code=AUTHCODE123&state=STATE456' });
    await app.close();
    const log = lines.join('');
    expect(log).toContain('/api/v1/auth/sso/corp/callback?code=redacted&state=redacted');
    expect(log).not.toContain('AUTHCODE123');
    expect(log).not.toContain('STATE456');
  });
});
