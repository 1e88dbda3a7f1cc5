import { describe, expect, it } from 'vitest';
import { touchesRegistryTopics } from './mqtt-registration.js';

describe('touchesRegistryTopics', () => {
  it('holds for topics and filters that can reach $warden/registry/', () => {
    for (const filter of ['$warden/registry/dev-1/request', '$warden/registry', '$warden/+/x', '$warden/#']) {
      expect(touchesRegistryTopics(filter), filter).toBe(true);
    }
  });

  it('does not hold for anything else, wildcards included ($ topics are not matched by a leading wildcard)', () => {
    for (const filter of [
      '$warden',
      '$warden/other/x',
      '#',
      '+/registry/#',
      'warden/registry/x',
      '$SYS/#',
      '',
    ]) {
      expect(touchesRegistryTopics(filter), filter).toBe(false);
    }
  });
});
