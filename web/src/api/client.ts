import createClient from 'openapi-fetch';
import type { Denial } from '../../../src/modules/permissions/permissions.policy';
import type { components, paths } from './schema';

/**
 * The typed API client. Same origin, so the HttpOnly session cookie travels with every call and the server's
 * cross-site check (Sec-Fetch-Site: same-origin) passes.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });

/** The problem every failed API call answers, as the server's OpenAPI document declares it. */
type Problem = components['schemas']['Problem'];

/** One failed rule of a problem's `errors` list (e.g. a password policy rule, a field's pointer). */
export type ProblemItem = NonNullable<Problem['errors']>[number];

/** An RFC 9457 problem answered by the API, with Warden's stable `code` to branch on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly items: readonly ProblemItem[];
  /** Seconds from the Retry-After header (throttling, overload), or null. */
  readonly retryAfterSeconds: number | null;
  /** What a refusal (401/403) says was missing: the role, scope, login step or the protected target. */
  readonly denial: Denial | null;

  constructor(response: Response, body: unknown) {
    const problem = isProblem(body) ? body : null;
    super(problem?.detail ?? `HTTP ${response.status}`);
    this.name = 'ApiError';
    this.status = response.status;
    this.code = problem?.code ?? `http.${response.status}`;
    this.items = problem?.errors ?? [];
    const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
    this.retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : null;
    this.denial = problem?.denial ?? null;
  }
}

/** The members the console reads; `denial` typed by the server's policy module it mirrors. */
interface ProblemBody {
  readonly code: Problem['code'];
  readonly detail?: Problem['detail'];
  readonly errors?: Problem['errors'];
  readonly denial?: Denial;
}

function isProblem(body: unknown): body is ProblemBody {
  return typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string';
}

/** The data of an openapi-fetch answer, or an {@link ApiError} thrown for a problem. */
export async function unwrap<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await request;
  if (!response.ok) throw new ApiError(response, error);
  return data as T;
}
