import type { FastifyServerOptions } from 'fastify';
import { NON_FINITE_MESSAGE, nonFiniteNumbers } from '../core/validation.js';

/** The Ajv instance Fastify compiles route schemas with (typed through Fastify: Ajv is its dependency). */
type Ajv = Parameters<NonNullable<NonNullable<FastifyServerOptions['ajv']>['onCreate']>>[0];

interface DataContext {
  readonly parentData?: Record<string | number, unknown>;
  readonly parentDataProperty?: string | number;
}

/** A compiled Ajv validator, as far as Fastify uses it. */
type Validate = ((this: unknown, data: unknown, context?: DataContext) => unknown) & {
  errors?: unknown[] | null;
  schema?: unknown;
  schemaEnv?: unknown;
};

const wrapped = new WeakMap<Validate, Validate>();

/**
 * A validator that also refuses every non-finite number left in the validated (and coerced) value. Ajv's
 * coercion turns "Infinity", "-Infinity" and "1e309" into ±Infinity and then skips both its own finiteness
 * check (`strictNumbers`) and `minimum`/`maximum`, so `?page=1e309` and `{"sessionTimeoutMinutes":"Infinity"}`
 * pass any integer schema; `JSON.parse` turns a literal `1e309` into Infinity in free-form fields. The rule
 * applies to every route and request part at once instead of per field.
 */
function finiteOnly(validate: Validate): Validate {
  const known = wrapped.get(validate);
  if (known) return known;
  const check: Validate = function (this: unknown, data, context) {
    const valid = validate.call(this, data, context);
    check.errors = validate.errors;
    // Asynchronous schemas answer with a promise; Warden's route schemas are all synchronous.
    if (valid !== true) return valid;
    // Coercion of the root value (a scalar querystring, say) replaces it in the parent, not in `data`.
    const value =
      context?.parentData && context.parentDataProperty !== undefined
        ? context.parentData[context.parentDataProperty]
        : data;
    const pointers = nonFiniteNumbers(value);
    if (pointers.length === 0) return true;
    check.errors = pointers.map((instancePath) => ({
      instancePath,
      schemaPath: '#',
      keyword: 'type',
      params: { type: 'number' },
      message: NON_FINITE_MESSAGE,
    }));
    return false;
  };
  // Fastify passes the parent (so that Ajv may coerce the root value) only to functions with a schemaEnv.
  check.schema = validate.schema;
  check.schemaEnv = validate.schemaEnv;
  wrapped.set(validate, check);
  return check;
}

/** For Fastify's `ajv.onCreate`: every validator this Ajv instance hands out refuses non-finite numbers. */
export function refuseNonFiniteNumbers(ajv: Ajv): void {
  const compile = ajv.compile.bind(ajv) as unknown as (schema: unknown, meta?: boolean) => Validate;
  const getSchema = ajv.getSchema.bind(ajv) as unknown as (key: string) => Validate | undefined;
  // Fastify's compiler calls `compile`, or `getSchema` for a schema with an `$id` it has seen before.
  ajv.compile = ((schema: unknown, meta?: boolean) => finiteOnly(compile(schema, meta))) as Ajv['compile'];
  ajv.getSchema = ((key: string) => {
    const validate = getSchema(key);
    return validate && finiteOnly(validate);
  }) as Ajv['getSchema'];
}
