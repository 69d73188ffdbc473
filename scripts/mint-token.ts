import { parseArgs } from 'node:util';
import { Secret } from '../src/secret';
import { DEFAULT_UPLOAD_TOKEN_TTL_SECONDS, mintUploadToken } from '../src/http/upload-token';

/**
 * `npm run token -- --subject user-42 [--ttl 300]`: prints an upload token signed with
 * UPLOAD_TOKEN_SECRET, as a customer's backend would mint one for its page.
 */
const { values } = parseArgs({
  options: {
    subject: { type: 'string' },
    ttl: { type: 'string', default: String(DEFAULT_UPLOAD_TOKEN_TTL_SECONDS) },
  },
});
const secret = process.env.UPLOAD_TOKEN_SECRET;
if (!secret || secret.length < 32) {
  process.stderr.write('set UPLOAD_TOKEN_SECRET (at least 32 characters) to the value the proxy uses\n');
  process.exit(1);
}
if (!values.subject) {
  process.stderr.write('usage: npm run token -- --subject <end-user id> [--ttl seconds]\n');
  process.exit(1);
}
process.stdout.write(`${mintUploadToken(new Secret(secret), values.subject, Number(values.ttl))}\n`);
