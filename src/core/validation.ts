import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { AppError, ProblemItem } from './errors/app-error.js';
import { coreError } from './errors/core-errors.js';

/** One property name as a JSON Pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`). */
export function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The problem item for a property a closed object does not have (same wording for the API and the CLI). */
export function unknownPropertyItem(objectPointer: string, name: string): ProblemItem {
  return { pointer: `${objectPointer}/${pointerToken(name)}`, message: `unknown property "${name}"` };
}

/** The problem item for a required property that is missing, pointing at where it belongs. */
export function missingPropertyItem(objectPointer: string, name: string): ProblemItem {
  return {
    pointer: `${objectPointer}/${pointerToken(name)}`,
    message: `required property "${name}" is missing`,
  };
}

export const NON_FINITE_MESSAGE = 'must be a finite number';

/**
 * JSON Pointers (relative to `value`) of the numbers in it that are not finite (NaN, ±Infinity), at most
 * `limit`. JSON has no such numbers, yet they reach a handler: `JSON.parse` turns `1e309` into Infinity, and
 * Ajv's type coercion turns the strings "Infinity" and "1e309" into Infinity without applying its own
 * finiteness check or the schema's `minimum`/`maximum` to the result. A stored Infinity then breaks every
 * response that serialises the row, so no part of a request may carry one, whatever its schema says.
 * Iterative, so that a deeply nested free-form value cannot overflow the stack.
 */
export function nonFiniteNumbers(value: unknown, limit = 10): string[] {
  interface Node {
    readonly value: unknown;
    readonly parent: Node | null;
    readonly key: string;
  }
  const pointerOf = (node: Node): string => {
    const tokens: string[] = [];
    for (let at: Node | null = node; at?.parent; at = at.parent) tokens.push(pointerToken(at.key));
    return tokens
      .reverse()
      .map((token) => `/${token}`)
      .join('');
  };
  const found: string[] = [];
  const stack: Node[] = [{ value, parent: null, key: '' }];
  while (stack.length > 0 && found.length < limit) {
    const node = stack.pop() as Node;
    const current = node.value;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) found.push(pointerOf(node));
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        stack.push({ value: current[index], parent: node, key: String(index) });
      }
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index] as [string, unknown];
        stack.push({ value: child, parent: node, key });
      }
    }
  }
  return found;
}

/**
 * Refuses to store a row with a non-finite number: SQLite would keep it, and every later read of the row
 * (lists, the user itself, login) would fail to serialise. Input validation already refuses such values; this
 * is the last line in front of the database, so a bug elsewhere fails one write instead of the directory.
 */
export function assertFiniteColumns(table: string, row: Readonly<Record<string, unknown>>): void {
  for (const [column, value] of Object.entries(row)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`refusing to write ${table}.${column} = ${value}: not a finite number`);
    }
  }
}

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

function validatorFor(schema: TSchema): ReturnType<typeof Compile> {
  let validator = compiled.get(schema);
  if (!validator) {
    validator = Compile(schema);
    compiled.set(schema, validator);
  }
  return validator;
}

/** TypeBox's errors as problem items, naming unknown and missing properties like the API does. */
function problemItems(validator: ReturnType<typeof Compile>, value: unknown): ProblemItem[] {
  const items: ProblemItem[] = [];
  for (const error of validator.Errors(value)) {
    // `additionalProperties: false` is also reported once per property as a failed `false` schema.
    if (error.keyword === 'boolean') continue;
    const params = error.params as { additionalProperties?: unknown; requiredProperties?: unknown };
    if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
      for (const name of params.additionalProperties)
        items.push(unknownPropertyItem(error.instancePath, name));
    } else if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
      for (const name of params.requiredProperties) items.push(missingPropertyItem(error.instancePath, name));
    } else {
      items.push({ pointer: error.instancePath || '/', message: error.message });
    }
  }
  return items;
}

/**
 * Validates a value against a route's TypeBox schema outside HTTP (the CLI, settings documents), so that the
 * CLI refuses exactly what the API refuses, with the same `request.invalid` problem — including the rule that
 * no number anywhere in the input may be non-finite (see nonFiniteNumbers).
 */
export function parseWith<S extends TSchema>(
  schema: S,
  value: unknown,
  fail: (errors: ProblemItem[]) => AppError = (errors) => coreError('request.invalid', undefined, { errors }),
): Static<S> {
  const validator = validatorFor(schema);
  if (!validator.Check(value)) throw fail(problemItems(validator, value));
  const nonFinite = nonFiniteNumbers(value);
  if (nonFinite.length > 0)
    throw fail(nonFinite.map((pointer) => ({ pointer: pointer || '/', message: NON_FINITE_MESSAGE })));
  return value as Static<S>;
}
