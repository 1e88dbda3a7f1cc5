/** One entry of the error catalogue: what a client sees for a code (docs/errors.md lists them all). */
export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  /** When the code occurs, for docs/errors.md. */
  readonly description: string;
}

export type ErrorCatalog = Readonly<Record<string, ErrorSpec>>;

/** A per-field or per-rule problem, listed in the `errors` member of a problem document. */
export interface ProblemItem {
  readonly pointer?: string;
  readonly rule?: string;
  readonly index?: number;
  readonly message: string;
}

/**
 * The one error type business code throws. It carries a stable catalogue code; the HTTP error handler
 * renders it as RFC 9457 problem+json, the CLI prints the code and exits non-zero.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly errors: readonly ProblemItem[] | undefined;
  /** Extra response headers (e.g. Retry-After for 429). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Extension members of the problem document (RFC 9457 §3.2), e.g. `denial` on a 403 saying what was missing.
   * Never secrets: they are sent to the client as they are.
   */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(code: string, spec: ErrorSpec, options: AppErrorOptions & { detail?: string } = {}) {
    super(options.detail ?? spec.title);
    this.name = 'AppError';
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** What an error carries besides its code and detail. */
export interface AppErrorOptions {
  readonly errors?: readonly ProblemItem[];
  readonly headers?: Record<string, string>;
  readonly extensions?: Record<string, unknown>;
}

export interface ErrorFactory<C extends string> {
  readonly catalog: Readonly<Record<C, ErrorSpec>>;
  (code: C, detail?: string, extra?: AppErrorOptions): AppError;
}

/**
 * Declares a feature's slice of the catalogue and returns a typed factory for it:
 * `const userError = defineErrors({ 'user.not_found': {...} }); throw userError('user.not_found')`.
 */
export function defineErrors<const T extends ErrorCatalog>(
  catalog: T,
): ErrorFactory<Extract<keyof T, string>> {
  const factory = (code: Extract<keyof T, string>, detail?: string, extra: AppErrorOptions = {}): AppError =>
    new AppError(code, catalog[code] as ErrorSpec, {
      ...(detail === undefined ? {} : { detail }),
      ...extra,
    });
  return Object.assign(factory, { catalog });
}
