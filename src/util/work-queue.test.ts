import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('WorkQueue', () => {
  it('runs every task, never more than the concurrency at once', async () => {
    const queue = new WorkQueue(3);
    let running = 0;
    let most = 0;
    const done: number[] = [];
    for (let i = 0; i < 20; i++) {
      queue.push(async () => {
        running++;
        most = Math.max(most, running);
        await tick();
        running--;
        done.push(i);
      });
    }
    await queue.drain();
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(most).toBe(3);
  });

  it('keeps the combined weight within the budget, but always runs a task alone', async () => {
    /** The largest combined weight running at once. */
    const heaviest = async (weights: number[]) => {
      const queue = new WorkQueue(10, 100);
      let load = 0;
      let most = 0;
      for (const weight of weights) {
        queue.push(async () => {
          load += weight;
          most = Math.max(most, load);
          await tick();
          load -= weight;
        }, weight);
      }
      await queue.drain();
      return most;
    };
    expect(await heaviest([60, 60, 30, 10])).toBeLessThanOrEqual(100);
    expect(await heaviest([60, 60, 30, 250, 10])).toBe(250);
  });

  it('counts waiting tasks and lets a producer add more as tasks end, before drain resolves', async () => {
    const queue = new WorkQueue(1);
    let produced = 0;
    const produce = () => {
      while (queue.waitingCount < 2 && produced < 10) {
        produced++;
        queue.push(async () => {
          await tick();
        });
      }
    };
    queue.onTaskEnd = produce;
    produce();
    expect([produced, queue.waitingCount]).toEqual([3, 2]); // one started at once, two wait
    await queue.drain();
    expect(produced).toBe(10);
    expect(queue.waitingCount).toBe(0);
  });

  it('stops starting tasks after a failure and reports it', async () => {
    const queue = new WorkQueue(1);
    const ran: number[] = [];
    queue.push(async () => {
      ran.push(1);
      throw new Error('boom');
    });
    queue.push(async () => {
      ran.push(2);
    });
    await expect(queue.drain()).rejects.toThrow('boom');
    expect(ran).toEqual([1]);
  });

  it('drains at once when nothing was added', async () => {
    await new WorkQueue(2).drain();
  });
});
