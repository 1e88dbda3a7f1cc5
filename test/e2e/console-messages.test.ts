import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG_SLICES } from '../../src/error-catalog.js';
import { en } from '../../web/src/i18n/messages.en.js';

/**
 * The console shows every API failure in plain words by its stable `code` (other languages are held to the
 * English keys by the compiler). A new error code without a console message fails here, like docs/errors.md.
 */
describe('console messages', () => {
  it('has a message for every error code of the API', () => {
    const codes = ERROR_CATALOG_SLICES.flatMap((slice) => Object.keys(slice.catalog));
    expect(codes.filter((code) => !Object.hasOwn(en, `error.${code}`))).toEqual([]);
  });
});
