import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { AppError, ProblemItem } from './errors/app-error.js';
import { coreError } from './errors/core-errors.js';

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

function validatorFor(schema: TSchema): ReturnType<typeof Compile> {
  let validator = compiled.get(schema);
  if (!validator) {
    validator = Compile(schema);
    compiled.set(schema, validator);
  }
  return validator;
}

/**
 * Validates a value against a route's TypeBox schema outside HTTP (the CLI, settings documents), so that the
 * CLI refuses exactly what the API refuses, with the same `request.invalid` problem.
 */
export function parseWith<S extends TSchema>(
  schema: S,
  value: unknown,
  fail: (errors: ProblemItem[]) => AppError = (errors) => coreError('request.invalid', undefined, { errors }),
): Static<S> {
  const validator = validatorFor(schema);
  if (validator.Check(value)) return value as Static<S>;
  const errors = validator
    .Errors(value)
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => ({ pointer: e.instancePath || '/', message: e.message }));
  throw fail(errors);
}
