import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ListUsersQuery, UpdateUserBody } from '../modules/users/users.schemas.js';
import { AppError } from './errors/app-error.js';
import { assertFiniteColumns, nonFiniteNumbers, parseWith } from './validation.js';

/** The problem items parseWith refuses `value` with. */
function refusal(schema: Parameters<typeof parseWith>[0], value: unknown): unknown {
  try {
    parseWith(schema, value);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('request.invalid');
    return (error as AppError).errors;
  }
  throw new Error('parseWith accepted the value');
}

describe('CLI validation: the same rules as the API', () => {
  it('refuses non-finite numbers in typed fields, naming the field', () => {
    for (const value of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
      expect(refusal(UpdateUserBody, { sessionTimeoutMinutes: value })).toEqual(
        expect.arrayContaining([expect.objectContaining({ pointer: '/sessionTimeoutMinutes' })]),
      );
      expect(refusal(ListUsersQuery, { page: value })).toEqual(
        expect.arrayContaining([expect.objectContaining({ pointer: '/page' })]),
      );
    }
  });

  it('refuses a non-finite number anywhere, also in free-form values the schema does not type', () => {
    const FreeForm = Type.Object({ settings: Type.Record(Type.String(), Type.Unknown()) });
    expect(refusal(FreeForm, { settings: { 'a/b': [1, { limit: Number.POSITIVE_INFINITY }] } })).toEqual([
      { pointer: '/settings/a~1b/1/limit', message: 'must be a finite number' },
    ]);
    expect(parseWith(FreeForm, { settings: { limit: 1e300 } })).toEqual({ settings: { limit: 1e300 } });
  });

  it('names unknown and missing properties like the API', () => {
    const Closed = Type.Object(
      { name: Type.String(), inner: Type.Object({ n: Type.Integer() }) },
      {
        additionalProperties: false,
      },
    );
    expect(refusal(Closed, { inner: { n: 1 }, extra: true })).toEqual(
      expect.arrayContaining([
        { pointer: '/name', message: 'required property "name" is missing' },
        { pointer: '/extra', message: 'unknown property "extra"' },
      ]),
    );
  });
});

describe('nonFiniteNumbers', () => {
  it('finds every non-finite number by its JSON Pointer, up to a limit', () => {
    expect(nonFiniteNumbers({ a: 1, b: [Number.NaN, 2, { 'c~d': Number.NEGATIVE_INFINITY }] })).toEqual([
      '/b/0',
      '/b/2/c~0d',
    ]);
    expect(nonFiniteNumbers(Number.POSITIVE_INFINITY)).toEqual(['']);
    expect(nonFiniteNumbers(Array(50).fill(Number.NaN), 3)).toHaveLength(3);
    expect(nonFiniteNumbers({ text: 'Infinity', flag: true, none: null })).toEqual([]);
  });

  it('walks a deeply nested value without overflowing the stack', () => {
    let deep: unknown = Number.POSITIVE_INFINITY;
    for (let depth = 0; depth < 200_000; depth++) deep = [deep];
    expect(nonFiniteNumbers(deep)).toEqual([`${'/0'.repeat(200_000)}`]);
  });
});

describe('assertFiniteColumns', () => {
  it('refuses a row with a non-finite number and accepts finite ones', () => {
    expect(() => assertFiniteColumns('users', { session_timeout_minutes: Number.POSITIVE_INFINITY })).toThrow(
      /users\.session_timeout_minutes/,
    );
    expect(() => assertFiniteColumns('users', { session_timeout_minutes: 30, email: null })).not.toThrow();
  });
});
