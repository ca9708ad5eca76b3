import { describe, expect, it } from 'vitest';
import { PerKey } from './gate.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('PerKey', () => {
  it('runs the calls of one key one after another, in order, and other keys meanwhile', async () => {
    const queue = new PerKey();
    const log: string[] = [];
    const call = (key: string, name: string) =>
      queue.run(key, async () => {
        log.push(`${name} start`);
        await tick();
        log.push(`${name} end`);
        return name;
      });
    const results = await Promise.all([call('a', 'a1'), call('a', 'a2'), call('b', 'b1'), call('a', 'a3')]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    const a = log.filter((l) => l.startsWith('a'));
    expect(a).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
    // b ran while a1 was in flight, not behind it.
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'));
  });

  it('a failed call fails alone: the next of its key still runs, and idle keys are forgotten', async () => {
    const queue = new PerKey();
    const failed = queue.run('a', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'after');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('after');
    await tick();
    expect((queue as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
