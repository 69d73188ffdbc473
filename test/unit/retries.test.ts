import { withRetries } from '../../src/heygen/retries';
import { UpstreamFailure } from '../../src/heygen/upstream-failure';

describe('withRetries', () => {
  it('tries again while the failure is retryable, up to its attempts, and answers with the last failure', async () => {
    const calls: number[] = [];
    const failing = withRetries(3, 1, undefined, (attempt) => {
      calls.push(attempt);
      return Promise.reject(new UpstreamFailure(`attempt ${attempt}`, { retryable: true }));
    });
    await expect(failing).rejects.toThrow('attempt 3');
    expect(calls).toEqual([1, 2, 3]);
  });

  it('stops at once on a failure that is not retryable', async () => {
    let calls = 0;
    const failing = withRetries(3, 1, undefined, () => {
      calls += 1;
      return Promise.reject(new UpstreamFailure('refused'));
    });
    await expect(failing).rejects.toThrow('refused');
    expect(calls).toBe(1);
  });

  it('ends its wait when the signal aborts, answering with the failure that led to it', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = performance.now();
    const failing = withRetries(3, 60_000, controller.signal, () => {
      calls += 1;
      return Promise.reject(new UpstreamFailure('dropped', { retryable: true }));
    });
    setTimeout(() => controller.abort(), 20);
    await expect(failing).rejects.toThrow('dropped');
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
