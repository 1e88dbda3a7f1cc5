import createClient from 'openapi-fetch';
import type { Denial } from '../../../src/modules/permissions/permissions.policy';
import type { paths } from './schema';

/**
 * The typed API client. Same origin, so the HttpOnly session cookie travels with every call and the server's
 * cross-site check (Sec-Fetch-Site: same-origin) passes.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });

/** One failed rule of a problem's `errors` list (e.g. a password policy rule). */
export interface ProblemItem {
  readonly rule?: string;
  readonly pointer?: string;
  readonly message?: string;
  /** The position of the failing item in a submitted list (e.g. an access role's rules). */
  readonly index?: number;
}

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

interface ProblemBody {
  code: string;
  detail?: string;
  errors?: ProblemItem[];
  denial?: Denial;
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
