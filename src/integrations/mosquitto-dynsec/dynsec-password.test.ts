import { describe, expect, it } from 'vitest';
import { DYNSEC_ITERATIONS, hashDynsecPassword, isDynsecPasswordRecord } from './dynsec-password.js';

describe('dynsec password records (Mosquitto PBKDF2-SHA512 format)', () => {
  it('matches the verified test vector: password "password", salt "saltsaltsalt"', () => {
    const record = hashDynsecPassword('password', Buffer.from('saltsaltsalt'));
    expect(record).toEqual({
      password: 'FCG7EBo8zJik0YXy2GHzSQZMIgRMOw788yO4Bu88kcpfFKpL26d4kQZwYWnUrhm5QP8Ay4tRcegPZigCc1KVBg==',
      salt: 'c2FsdHNhbHRzYWx0',
      iterations: 101,
    });
  });

  it('uses a fresh 12-byte salt and Mosquitto 2.0 iterations by default', () => {
    const a = hashDynsecPassword('s3cret');
    const b = hashDynsecPassword('s3cret');
    expect(a.salt).not.toBe(b.salt);
    expect(a.salt).toHaveLength(16);
    expect(a.password).toHaveLength(88);
    expect(a.iterations).toBe(DYNSEC_ITERATIONS);
    expect(isDynsecPasswordRecord(a)).toBe(true);
  });

  it('recognises only records the plugin would load', () => {
    expect(isDynsecPasswordRecord({ password: 'AAAA', salt: 'c2FsdHNhbHRzYWx0', iterations: 101 })).toBe(
      false,
    );
    expect(isDynsecPasswordRecord({ ...hashDynsecPassword('x'), iterations: 0 })).toBe(false);
    expect(isDynsecPasswordRecord(null)).toBe(false);
    expect(() => hashDynsecPassword('x', Buffer.alloc(8))).toThrow();
  });
});
