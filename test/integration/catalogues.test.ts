import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/config.js';
import { ERROR_CATALOG_SLICES, renderErrorDocs } from '../../src/error-catalog.js';

describe('documentation kept in sync with the code', () => {
  it('docs/errors.md is the rendering of the error catalogue (run npm run docs:errors)', () => {
    expect(fs.readFileSync('docs/errors.md', 'utf8')).toBe(renderErrorDocs());
  });

  it('no error code is declared twice, and every code is namespaced', () => {
    const codes = ERROR_CATALOG_SLICES.flatMap(({ catalog }) => Object.keys(catalog));
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z_]+\.[a-z_]+$/);
  });

  it('docs/config.md documents every configuration variable with its default', () => {
    const doc = fs.readFileSync('docs/config.md', 'utf8');
    for (const key of CONFIG_KEYS) {
      expect(doc, key.env).toContain(`\`${key.env}\``);
      expect(doc, `${key.env} default`).toContain(key.defaultValue);
    }
  });
});
