import { MemoryUploadReservations } from '../../src/state/upload-reservations';

const limits = { totalBytes: 100, bytesPerClient: 60, uploadsPerClient: 2 };

describe('the resumable store\'s reservations (in this process)', () => {
  it('refuses past a client\'s uploads, past its bytes, and past the store, in that order of blame', async () => {
    const reservations = new MemoryUploadReservations(limits);
    expect(await reservations.reserve('a1', 'client-a', 50)).toBeUndefined();
    expect(await reservations.reserve('a2', 'client-a', 20)).toBe('client-bytes');
    expect(await reservations.reserve('a2', 'client-a', 10)).toBeUndefined();
    expect(await reservations.reserve('a3', 'client-a', 1)).toBe('client-uploads');
    // The store holds 60 of 100: another client's 41 does not fit, its 40 does.
    expect(await reservations.reserve('b1', 'client-b', 41)).toBe('store-full');
    expect(await reservations.reserve('b1', 'client-b', 40)).toBeUndefined();
    expect(await reservations.totals('client-a')).toEqual({ bytes: 100, uploads: 3, clientBytes: 60, clientUploads: 2 });
  });

  it('gives room back once per upload, and keeps a second reservation of one id as the first', async () => {
    const reservations = new MemoryUploadReservations(limits);
    expect(await reservations.reserve('a1', 'client-a', 50)).toBeUndefined();
    expect(await reservations.reserve('a1', 'client-a', 50)).toBeUndefined();
    expect(await reservations.totals('client-a')).toEqual({ bytes: 50, uploads: 1, clientBytes: 50, clientUploads: 1 });
    await reservations.release('a1');
    await reservations.release('a1');
    await reservations.release('never-reserved');
    expect(await reservations.totals('client-a')).toEqual({ bytes: 0, uploads: 0, clientBytes: 0, clientUploads: 0 });
  });

  it('counts uploads found in the store at start against the store alone, once', async () => {
    const reservations = new MemoryUploadReservations(limits);
    await reservations.adopt('old', 70);
    await reservations.adopt('old', 70);
    expect(await reservations.totals()).toMatchObject({ bytes: 70, uploads: 1 });
    expect(await reservations.reserve('a1', 'client-a', 40)).toBe('store-full');
    expect(await reservations.reserve('a1', 'client-a', 30)).toBeUndefined();
    await reservations.release('old');
    expect(await reservations.totals('client-a')).toEqual({ bytes: 30, uploads: 1, clientBytes: 30, clientUploads: 1 });
  });
});
