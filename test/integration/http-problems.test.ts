import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Problem } from '../../src/http/problem.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

type ProblemBody = Problem;

/** Asserts that a response is an RFC 9457 problem with this status and code, and returns its body. */
function expectProblem(response: LightMyRequestResponse, status: number, code: string): ProblemBody {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json() as ProblemBody;
  expect(body).toMatchObject({ status, code, type: `https://warden.dev/problems/${code}` });
  expect(typeof body.requestId).toBe('string');
  return body;
}

/** A parametric route URL made concrete (`:username` → `admin`). */
const concrete = (url: string, value = 'admin'): string => url.replace(/:(\w+)/g, value);

/** One HTTP/1.1 answer read from a raw socket. */
interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parseAnswers(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`incomplete answer: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(rest.slice(end + 4), 'utf8')
      .subarray(0, length)
      .toString('utf8');
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + body.length);
  }
  return answers;
}

/** A raw connection: write requests, then read everything until the server closes it. */
interface RawConnection {
  write(chunk: string): void;
  /** What arrived, and the socket error if any (ECONNRESET when the server resets instead of closing). */
  readonly done: Promise<{ text: string; error: string | null }>;
}

function openRaw(port: number): RawConnection {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let error: string | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => {
    text += data;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  socket.on('end', () => socket.end());
  const done = new Promise<{ text: string; error: string | null }>((resolve) => {
    socket.on('close', () => resolve({ text, error }));
  });
  return { write: (chunk) => socket.write(chunk), done };
}

function rawExchange(
  port: number,
  chunks: readonly string[],
): Promise<{ text: string; error: string | null }> {
  const connection = openRaw(port);
  for (const chunk of chunks) connection.write(chunk);
  return connection.done;
}

/** One GET through a keep-alive agent; resolves with the answer or the socket error code. */
function agentGet(
  agent: http.Agent,
  port: number,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (data: string) => {
        body += data;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

describe('numeric input: every number a request carries is finite and in range', () => {
  let t: TestContext;
  let root: string;
  beforeAll(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'victim', sessionTimeoutMinutes: 30 });
  });
  afterAll(() => t.close());

  const patchRaw = (username: string, json: string) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${username}`,
      headers: { cookie: root, 'content-type': 'application/json' },
      payload: json,
    });

  it('a non-finite sessionTimeoutMinutes is a 400 naming the field and never reaches the user directory', async () => {
    // 1e309 is valid JSON that JSON.parse turns into Infinity; the strings are coerced by the validator.
    for (const value of ['"Infinity"', '"-Infinity"', '"NaN"', '"1e309"', '1e309', '-1e309']) {
      const response = await patchRaw('victim', `{"sessionTimeoutMinutes": ${value}}`);
      const problem = expectProblem(response, 400, 'request.invalid');
      expect(
        problem.errors?.map((error) => error.pointer),
        value,
      ).toContain('/body/sessionTimeoutMinutes');
    }
    // The directory still answers: the list, the user, an update and the user's own login.
    expect((await t.call('GET', '/api/v1/users', { cookie: root })).statusCode).toBe(200);
    const user = await t.call('GET', '/api/v1/users/victim', { cookie: root });
    expect(user.statusCode).toBe(200);
    expect(user.json().sessionTimeoutMinutes).toBe(30);
    const update = await t.call('PATCH', '/api/v1/users/victim', {
      cookie: root,
      payload: { description: 'still fine' },
    });
    expect(update.statusCode).toBe(200);
    await t.login('victim', STRONG_PASSWORD);
  });

  it('a finite value in range is still accepted, from JSON and as a numeric string', async () => {
    expect((await patchRaw('victim', '{"sessionTimeoutMinutes": 45}')).json().sessionTimeoutMinutes).toBe(45);
    expect((await patchRaw('victim', '{"sessionTimeoutMinutes": "60"}')).json().sessionTimeoutMinutes).toBe(
      60,
    );
    const over = await patchRaw('victim', '{"sessionTimeoutMinutes": 1e300}');
    expectProblem(over, 400, 'request.invalid');
  });

  it('every paged list answers page=1e309, page=Infinity and pageSize=NaN with a 400 problem', async () => {
    const doc = (await t.call('GET', '/api/openapi.json')).json() as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>;
    };
    const paged = t.app.routeAccess.filter((route) => {
      if (route.method !== 'GET') return false;
      const operation = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.get;
      return operation?.parameters?.some((p) => p.in === 'query' && p.name === 'page') ?? false;
    });
    expect(paged.map((route) => route.url)).toEqual(
      expect.arrayContaining(['/api/v1/users', '/api/v1/audit', '/api/v1/sessions', '/api/v1/access-roles']),
    );
    const cases: Array<[string, string]> = [
      ['page=1e309', '/querystring/page'],
      ['page=Infinity', '/querystring/page'],
      ['page=-Infinity', '/querystring/page'],
      ['page=NaN', '/querystring/page'],
      ['pageSize=NaN', '/querystring/pageSize'],
      ['pageSize=Infinity', '/querystring/pageSize'],
    ];
    for (const route of paged) {
      for (const [query, pointer] of cases) {
        const response = await t.call('GET', `${concrete(route.url)}?${query}`, { cookie: root });
        const problem = expectProblem(response, 400, 'request.invalid');
        expect(
          problem.errors?.map((error) => error.pointer),
          `${route.url}?${query}`,
        ).toContain(pointer);
      }
    }
  });

  it('the users repository refuses to write a non-finite number that got past validation', async () => {
    // The service trusts its (validated) input; the repository is the last line in front of the database.
    await expect(
      t.services.users.update(CLI_CONTEXT, 'victim', { sessionTimeoutMinutes: Number.POSITIVE_INFINITY }),
    ).rejects.toThrow(/users\.session_timeout_minutes.*not a finite number/);
    await expect(
      t.services.users.create(CLI_CONTEXT, {
        username: 'infinite',
        password: STRONG_PASSWORD,
        role: 'viewer',
        sessionTimeoutMinutes: Number.NaN,
      }),
    ).rejects.toThrow(/not a finite number/);
    expect((await t.call('GET', '/api/v1/users', { cookie: root })).statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/users/victim', { cookie: root })).json().sessionTimeoutMinutes).toBe(
      60,
    );
    expect((await t.call('GET', '/api/v1/users/infinite', { cookie: root })).statusCode).toBe(404);
  });
});

describe('every error is a problem with a code', () => {
  let t: TestContext;
  let root: string;
  beforeAll(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'member' });
  });
  afterAll(() => t.close());

  it('a URL with malformed percent-encoding is a 400 problem', async () => {
    const response = await t.call('GET', '/api/v1/users/%ff%fe', { cookie: root });
    expect(expectProblem(response, 400, 'request.invalid').detail).toMatch(/URL/);
  });

  it('a path parameter over the router limit is a 414 problem', async () => {
    const response = await t.call('GET', `/api/v1/users/${'a'.repeat(5_000)}`, { cookie: root });
    expectProblem(response, 414, 'request.uri_too_long');
  });

  it('a text/plain body is a 415 problem on every route that takes a body', async () => {
    const doc = (await t.call('GET', '/api/openapi.json')).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    // Broker hooks are admitted by their credential before the body is read (their own tests cover them).
    const withBody = t.app.routeAccess.filter(
      (route) =>
        route.access.kind !== 'hook' &&
        doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()]?.requestBody,
    );
    expect(withBody.length).toBeGreaterThan(10);
    for (const route of withBody) {
      const response = await t.app.inject({
        method: route.method as 'POST',
        url: concrete(route.url, 'member'),
        headers: { cookie: root, 'content-type': 'text/plain' },
        payload: '{"username":"x"}',
      });
      expect(response.statusCode, `${route.method} ${route.url}: ${response.body}`).toBe(415);
      expectProblem(response, 415, 'request.unsupported_media_type');
    }
  });

  it('routes without a body still take requests with no body and no content type', async () => {
    const walker = 'bodyless-walker';
    await t.createUser({ username: walker, role: 'admin' });
    const cookie = await t.login(walker);
    const doc = (await t.call('GET', '/api/openapi.json')).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const bodyless = t.app.routeAccess.filter(
      (route) =>
        ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) &&
        route.access.kind !== 'hook' &&
        route.url !== '/api/v1/auth/logout' &&
        !doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()]?.requestBody,
    );
    expect(bodyless.length).toBeGreaterThan(10);
    for (const route of bodyless) {
      // Parameters name nothing that exists: the answer is the route's own 404, not a media-type refusal.
      const response = await t.app.inject({
        method: route.method as 'POST',
        url: concrete(route.url, 'zz-nothing'),
        headers: { cookie },
      });
      expect(response.statusCode, `${route.method} ${route.url}: ${response.body}`).not.toBe(415);
      expect(response.statusCode, `${route.method} ${route.url}: ${response.body}`).toBeLessThan(500);
    }
    const deactivate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/member/deactivate',
      headers: { cookie: root },
    });
    expect(deactivate.statusCode).toBe(200);
    const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBe(204);
  });

  it('a known path with a method it does not have is a 405 problem with an Allow header', async () => {
    const cases: Array<[string, string, string]> = [
      ['PUT', '/api/v1/users', 'GET, HEAD, POST'],
      ['DELETE', '/api/v1/auth/login', 'POST'],
      ['POST', '/api/v1/users/admin', 'GET, HEAD, PATCH, DELETE'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['PATCH', '/api/v1/access-roles/some-role', 'GET, HEAD, PUT, DELETE'],
    ];
    for (const [method, url, allow] of cases) {
      const response = await t.app.inject({ method: method as 'PUT', url, headers: { cookie: root } });
      expectProblem(response, 405, 'request.method_not_allowed');
      expect(response.headers.allow, `${method} ${url}`).toBe(allow);
    }
    // An unknown path stays a 404.
    expectProblem(await t.call('PUT', '/api/v1/nothing-here', { cookie: root }), 404, 'request.not_found');
  });

  it('validation problems name unknown and missing properties', async () => {
    const unknown = await t.call('PATCH', '/api/v1/users/member', {
      cookie: root,
      payload: { description: 'x', foo: 1, 'a/b': 2 },
    });
    expect(expectProblem(unknown, 400, 'request.invalid').errors).toEqual(
      expect.arrayContaining([
        { pointer: '/body/foo', message: 'unknown property "foo"' },
        { pointer: '/body/a~1b', message: 'unknown property "a/b"' },
      ]),
    );
    // Without a password Warden generates one; the role is required.
    const missing = await t.call('POST', '/api/v1/users', { cookie: root, payload: { username: 'abc' } });
    const problem = expectProblem(missing, 400, 'request.invalid');
    expect(problem.errors).toEqual([
      { pointer: '/body/role', message: 'required property "role" is missing' },
    ]);
    expect(problem.detail).toContain('/body/role');
    const query = await t.call('GET', '/api/v1/users?pagesize=25', { cookie: root });
    expect(expectProblem(query, 400, 'request.invalid').errors).toEqual([
      { pointer: '/querystring/pagesize', message: 'unknown property "pagesize"' },
    ]);
  });

  it("errors of the plugins' routes (API docs files) keep their status as problems", async () => {
    const file = '/api/docs/static/swagger-ui.css';
    const range = await t.app.inject({ method: 'GET', url: file, headers: { range: 'bytes=999999999-' } });
    expectProblem(range, 416, 'request.range_not_satisfiable');
    expect(range.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
    const precondition = await t.app.inject({ method: 'GET', url: file, headers: { 'if-match': '"other"' } });
    expectProblem(precondition, 412, 'request.precondition_failed');
    expectProblem(await t.call('GET', '/api/docs/static/nothing.js'), 404, 'request.not_found');
    expectProblem(await t.call('GET', '/api/docs/static//etc/passwd'), 403, 'request.forbidden_path');
    expectProblem(await t.call('POST', '/api/docs/json'), 405, 'request.method_not_allowed');
  });
});

describe('errors before routing, on a listening server', () => {
  let t: TestContext;
  let port: number;
  beforeAll(async () => {
    t = await createTestContext();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  const hugeTarget = `/api/v1/users?filler=${'a'.repeat(20_000)}`;

  it('a URL over the header limit is a complete 431 problem that closes the connection without a reset', async () => {
    const { text, error } = await rawExchange(port, [
      `GET ${hugeTarget} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n`,
      // The client is still sending when the server answers: those bytes must not turn into a reset.
      `X-Filler: ${'b'.repeat(200_000)}\r\n\r\n`,
    ]);
    expect(error).toBeNull();
    const [answer, ...more] = parseAnswers(text);
    expect(more).toEqual([]);
    expect(answer?.status).toBe(431);
    expect(answer?.headers.connection).toBe('close');
    expect(answer?.headers['content-type']).toContain('application/problem+json');
    const problem = JSON.parse(answer?.body ?? '') as ProblemBody;
    expect(problem).toMatchObject({ status: 431, code: 'request.headers_too_large' });
    expect(problem.instance).toBe(`urn:uuid:${problem.requestId}`);
  });

  it('a keep-alive client gets the 431 problem and its next request works (no ECONNRESET)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await agentGet(agent, port, '/healthz')).toMatchObject({ status: 200 });
      const refused = await agentGet(agent, port, hugeTarget);
      expect(refused).toMatchObject({ status: 431, headers: { connection: 'close' } });
      expect(JSON.parse((refused as { body: string }).body).code).toBe('request.headers_too_large');
      expect(await agentGet(agent, port, '/healthz')).toMatchObject({ status: 200 });
    } finally {
      agent.destroy();
    }
  });

  it('a request that is not HTTP is a 400 problem', async () => {
    const { text, error } = await rawExchange(port, ['NOT HTTP AT ALL\r\n\r\n']);
    expect(error).toBeNull();
    const [answer] = parseAnswers(text);
    expect(answer?.status).toBe(400);
    expect(answer?.headers.connection).toBe('close');
    expect(JSON.parse(answer?.body ?? '')).toMatchObject({ status: 400, code: 'request.invalid' });
  });

  it('malformed percent-encoding and over-long parameters are problems on the wire too', async () => {
    const { text } = await rawExchange(port, [
      'GET /api/v1/users/%ff%fe HTTP/1.1\r\nHost: localhost\r\n\r\n',
      `GET /api/v1/users/${'a'.repeat(5_000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    ]);
    const [badUrl, tooLong] = parseAnswers(text);
    expect(badUrl?.status).toBe(400);
    expect(badUrl?.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(badUrl?.body ?? '').code).toBe('request.invalid');
    expect(tooLong?.status).toBe(414);
    expect(JSON.parse(tooLong?.body ?? '').code).toBe('request.uri_too_long');
  });
});

describe('shutting down', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('a request that arrives while the server closes is a 503 problem, not Fastify JSON', async () => {
    const app: FastifyInstance = await buildApp({ services: t.services });
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = (): void => {};
    const slowEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let closingStarted = (): void => {};
    const closing = new Promise<void>((resolve) => {
      closingStarted = resolve;
    });
    let secondArrived = (): void => {};
    const second = new Promise<void>((resolve) => {
      secondArrived = resolve;
    });
    // A route that stays in flight, so that the connection is still open when closing begins.
    await app.register(async (child) => {
      child.get('/test/slow', { config: { access: { kind: 'public' } } }, async () => {
        entered();
        await gate;
        return { slow: 'done' };
      });
    });
    app.addHook('preClose', async () => closingStarted());
    await app.listen({ port: 0, host: '127.0.0.1' });
    // Node hands a pipelined request over at once (answers are sent in order); Fastify routes it right away.
    app.server.on('request', (request: http.IncomingMessage) => {
      if (request.url === '/healthz') secondArrived();
    });
    const port = (app.server.address() as AddressInfo).port;

    let closed: Promise<undefined> | null = null;
    try {
      const connection = openRaw(port);
      connection.write('GET /test/slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await slowEntered;
      closed = app.close();
      await closing;
      // The second request comes on the still open connection after closing began.
      connection.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await second;
      release();
      const { text, error } = await connection.done;
      await closed;
      expect(error).toBeNull();
      const [first, refused, ...more] = parseAnswers(text);
      expect(more).toEqual([]);
      expect(first?.status).toBe(200);
      expect(refused?.status).toBe(503);
      expect(refused?.headers.connection).toBe('close');
      expect(refused?.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(refused?.body ?? '')).toMatchObject({ status: 503, code: 'server.shutting_down' });
    } finally {
      release();
      await (closed ?? app.close());
    }
  });
});
