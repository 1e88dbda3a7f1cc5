import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('smoke', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('logs in as root and lists users', async () => {
    const cookie = await t.login('admin', ROOT_PASSWORD);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.json().items[0].username).toBe('admin');
  });
});
