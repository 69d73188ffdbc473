import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

const COOKIE = 'sid';

/**
 * A stand-in for your app's own sign-in, so that the token route has a user to ask about: an
 * in-memory map from a random cookie to a user id, filled by `signIn`. It checks no password and
 * forgets everyone on restart. Use the session your backend already has instead.
 */
export class TrivialSessions {
  readonly #users = new Map<string, string>();

  /** Starts a session for `userId` and sets its cookie (HttpOnly: page scripts cannot read it). */
  signIn(res: Response, userId: string): void {
    const id = randomBytes(24).toString('hex');
    this.#users.set(id, userId);
    res.cookie(COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/' });
  }

  /** The signed-in user of this request, or undefined. */
  userOf(req: Request): string | undefined {
    const id = cookieValue(req.get('cookie'), COOKIE);
    return id === undefined ? undefined : this.#users.get(id);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
