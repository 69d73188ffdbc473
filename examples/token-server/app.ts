import express, { type Express } from 'express';
import { TrivialSessions } from './session';
import { uploadTokenRoute, type UploadTokenRouteOptions } from './upload-token-route';

/**
 * Your backend, reduced to what upload tokens need: a sign-in (the trivial session, for the
 * example; yours replaces it) and the token route. Serve your pages from it too: the page must
 * fetch /upload-token from this origin, with its cookie.
 */
export function tokenServerApp(options: Omit<UploadTokenRouteOptions, 'userOf'>): Express {
  const sessions = new TrivialSessions();
  const app = express();
  app.disable('x-powered-by');
  // The example's sign-in: any name, no password. Your app's real sign-in goes here.
  app.post('/sign-in', express.json(), (req, res) => {
    const user = (req.body as { user?: unknown } | undefined)?.user;
    if (typeof user !== 'string' || user === '') {
      res.status(400).json({ error: 'Say who you are: {"user": "..."}' });
      return;
    }
    sessions.signIn(res, user);
    res.status(204).end();
  });
  app.use(uploadTokenRoute({ ...options, userOf: (req) => sessions.userOf(req) }));
  return app;
}
