import type { NextFunction, Request, Response } from 'express';
import { deferredResumableIntake } from '../../src/intake/deferred-resumable-intake';
import type { ResumableIntake } from '../../src/intake/resumable/resumable-intake';

/** A stand-in for the real intake that records what it was asked, and settles each request's work when told. */
function fakeIntake() {
  const calls: string[] = [];
  let settle: () => void = () => undefined;
  const intake: ResumableIntake = {
    handle: (_req, res) => {
      calls.push('handle');
      res.locals.context.uploadSettled = new Promise<void>((resolve) => (settle = resolve));
    },
    status: () => {
      calls.push('status');
      return Promise.resolve({ state: 'missing' });
    },
    cleanup: () => Promise.resolve({ expired: 0, records: 0 }),
    start: (intervalMs) => {
      calls.push(`start ${intervalMs}`);
      return Promise.resolve();
    },
    close: () => void calls.push('close'),
  };
  return { intake, calls, settleWork: () => settle() };
}

const exchange = (): { req: Request; res: Response; next: NextFunction } => ({
  req: {} as Request,
  res: { locals: { context: {} } } as unknown as Response,
  next: jest.fn(),
});

describe('deferredResumableIntake', () => {
  it('builds nothing at start with an empty store; the first request builds and starts the intake, then reaches it', async () => {
    const fake = fakeIntake();
    let loads = 0;
    const deferred = deferredResumableIntake(
      () => {
        loads += 1;
        return fake.intake;
      },
      () => Promise.resolve(false),
    );
    await deferred.start(60_000);
    expect(loads).toBe(0);

    const first = exchange();
    deferred.handle(first.req, first.res, first.next);
    // The edge releases the client's slot when this settles: it must wait for the real intake's work.
    const settled = first.res.locals.context.uploadSettled;
    expect(settled).toBeDefined();
    let done = false;
    void settled!.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls).toEqual(['start 60000', 'handle']);
    expect(done).toBe(false);
    fake.settleWork();
    await settled;
    expect(done).toBe(true);

    const second = exchange();
    deferred.handle(second.req, second.res, second.next);
    expect(fake.calls).toEqual(['start 60000', 'handle', 'handle']);
    expect(loads).toBe(1);
  });

  it('builds the intake at start when the store already holds uploads', async () => {
    const fake = fakeIntake();
    const deferred = deferredResumableIntake(
      () => fake.intake,
      () => Promise.resolve(true),
    );
    await deferred.start(1_000);
    expect(fake.calls).toEqual(['start 1000']);
    expect(await deferred.status('x')).toEqual({ state: 'missing' });
    deferred.close();
    expect(fake.calls).toEqual(['start 1000', 'status', 'close']);
  });

  it('hands a failure to build the intake to the request, as an error, and tries again on the next request', async () => {
    let attempts = 0;
    const deferred = deferredResumableIntake(
      () => {
        attempts += 1;
        throw new Error('no store');
      },
      () => Promise.resolve(false),
    );
    await deferred.start(1_000);
    const { req, res, next } = exchange();
    deferred.handle(req, res, next);
    await res.locals.context.uploadSettled;
    await new Promise((resolve) => setImmediate(resolve));
    expect(next).toHaveBeenCalledWith(expect.objectContaining({ message: 'no store' }));
    await expect(deferred.status('x')).rejects.toThrow('no store');
    expect(attempts).toBe(2);
  });
});
