/** Where EMQX's REST API is and the API key (key + secret, sent as HTTP Basic auth) to call it with. */
export interface EmqxManagementConfig {
  /** Base URL, e.g. `http://emqx:18083` (the `/api/v5` prefix is added). */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly timeoutMs: number;
}

/** One REST call as a sync plan lists it (no secrets: the key travels in a header). */
export interface EmqxRequest {
  readonly method: 'GET' | 'DELETE';
  readonly path: string;
}

/** A connected client as `GET /api/v5/clients` lists it (the fields Warden uses). */
export interface EmqxClient {
  readonly clientid: string;
  readonly username: string;
}

const PAGE = 1000;

/**
 * The few EMQX 5 management calls Warden needs (docs/broker-protocols.md#emqx-management-api): list clients
 * (all, or one user's), kick a client, purge one client's or every node's authorization cache. A 404 on a
 * kick or purge means the client is gone already: not an error.
 */
export class EmqxManagement {
  readonly #base: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;

  constructor(config: EmqxManagementConfig) {
    this.#base = `${config.url.replace(/\/+$/, '')}/api/v5`;
    this.#authorization = `Basic ${Buffer.from(`${config.apiKey}:${config.apiSecret}`).toString('base64')}`;
    this.#timeoutMs = config.timeoutMs;
  }

  static clientsPath(query: { username?: string; page: number }): string {
    const params = new URLSearchParams({ limit: String(PAGE), page: String(query.page) });
    if (query.username !== undefined) params.set('username', query.username);
    return `/clients?${params}`;
  }

  static kickPath(clientid: string): string {
    return `/clients/${encodeURIComponent(clientid)}`;
  }

  static purgePath(clientid: string | null): string {
    return clientid === null
      ? '/authorization/cache'
      : `/clients/${encodeURIComponent(clientid)}/authorization/cache`;
  }

  /** Sends one request; resolves with the parsed JSON body (null for 204/404). Rejects on other statuses. */
  async send(request: EmqxRequest): Promise<unknown> {
    const response = await fetch(`${this.#base}${request.path}`, {
      method: request.method,
      headers: { authorization: this.#authorization, accept: 'application/json' },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (response.status === 204 || (response.status === 404 && request.method === 'DELETE')) return null;
    if (!response.ok) {
      throw new Error(
        `EMQX answered ${response.status} to ${request.method} /api/v5${request.path.split('?')[0]}`,
      );
    }
    return response.json();
  }

  /** Every connected client (of one user when `username` is given), following EMQX's pages. */
  async clients(username?: string): Promise<EmqxClient[]> {
    const clients: EmqxClient[] = [];
    for (let page = 1; ; page += 1) {
      const body = (await this.send({
        method: 'GET',
        path: EmqxManagement.clientsPath({ ...(username === undefined ? {} : { username }), page }),
      })) as {
        data?: Array<{ clientid?: unknown; username?: unknown }>;
        meta?: { hasnext?: boolean };
      } | null;
      const data = Array.isArray(body?.data) ? body.data : [];
      for (const item of data) {
        if (typeof item.clientid === 'string') {
          clients.push({
            clientid: item.clientid,
            username: typeof item.username === 'string' ? item.username : '',
          });
        }
      }
      if (body?.meta?.hasnext !== true || data.length === 0) return clients;
    }
  }
}
