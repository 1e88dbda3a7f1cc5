import { describe, expect, it } from 'vitest';
import { ManualClock, runAt, systemClock } from './clock.js';

describe('deadlines on the injectable clock', () => {
  it('a manual clock runs due tasks when moved, in time order, and not cancelled ones', () => {
    const clock = new ManualClock(1_000);
    const ran: string[] = [];
    runAt(clock, 3_000, () => ran.push('c'));
    runAt(clock, 2_000, () => ran.push('b'));
    const cancel = runAt(clock, 2_500, () => ran.push('cancelled'));
    cancel();
    clock.advance(999);
    expect(ran).toEqual([]);
    clock.advance(1);
    expect(ran).toEqual(['b']);
    clock.set(10_000);
    expect(ran).toEqual(['b', 'c']);
  });

  it('a task already due runs asynchronously, unless cancelled first', async () => {
    const clock = new ManualClock(5_000);
    const ran: string[] = [];
    runAt(clock, 5_000, () => ran.push('due'));
    runAt(clock, 4_000, () => ran.push('cancelled'))();
    expect(ran).toEqual([]);
    await Promise.resolve();
    expect(ran).toEqual(['due']);
  });

  it('the system clock uses a real timer', async () => {
    const ran = await new Promise<boolean>((resolve) => {
      runAt(systemClock, Date.now() + 5, () => resolve(true));
    });
    expect(ran).toBe(true);
  });
});
