import type { Secret } from '../secret';
import { UpstreamFailure } from './upstream-failure';

const REDACTED = '[redacted]';

/** Shorter base64 fragments than this could match unrelated text; a real API key yields far longer ones. */
const MIN_BASE64_FRAGMENT = 8;

const patterns = new WeakMap<Secret, RegExp>();

/** What HeyGen said is logged up to this length (after the key is scrubbed out). */
export const MAX_LOGGED_CHARS = 300;

/**
 * An adapter's call, guarded: whatever it throws reaches the caller as an UpstreamFailure whose words
 * carry no trace of `secret` and fit a log line. The one place an adapter's failures leave heygen/,
 * so an echo of the key in HeyGen's answer (or in an error of our own) cannot reach a log.
 */
export function withSecretScrubbed<A extends unknown[], T>(secret: Secret, call: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  return (...args) =>
    call(...args).catch((error: unknown) => {
      const failure = error instanceof UpstreamFailure ? error : new UpstreamFailure(`HeyGen exchange failed: ${String(error)}`);
      return Promise.reject(failure.withMessage(scrubSecret(failure.message, secret).slice(0, MAX_LOGGED_CHARS)));
    });
}

/**
 * `text` with every trace of `secret` replaced by "[redacted]": what an upstream says may echo the key
 * it was sent, and not always verbatim. Caught: the key in any letter case, percent-encoded (a
 * character at a time or wholly, either hex case), hex-encoded, and base64-encoded in the standard or
 * URL alphabet, alone or inside a longer base64 text (e.g. a Basic credential), whatever its offset.
 * Over-redacting a look-alike is harmless; missing an encoding would put the key in the log.
 */
export function scrubSecret(text: string, secret: Secret): string {
  if (secret.reveal().length === 0) return text;
  let pattern = patterns.get(secret);
  if (pattern === undefined) {
    pattern = patternFor(secret.reveal());
    patterns.set(secret, pattern);
  }
  return text.replace(pattern, REDACTED);
}

function patternFor(value: string): RegExp {
  const bytes = Buffer.from(value, 'utf8');
  const alternatives = [literalOrPercentEncoded(value), escapeRegExp(bytes.toString('hex')), ...base64Fragments(bytes).map(escapeRegExp)];
  // Longest first, so a full encoding is redacted whole rather than around a shorter match inside it.
  alternatives.sort((a, b) => b.length - a.length);
  return new RegExp(alternatives.join('|'), 'gi');
}

/** Each character as itself or as the %XX escapes of its UTF-8 bytes (encodeURIComponent and stricter encoders). */
function literalOrPercentEncoded(value: string): string {
  return [...value]
    .map((character) => {
      const escaped = [...Buffer.from(character, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
      return `(?:${escapeRegExp(character)}|${escaped})`;
    })
    .join('');
}

/**
 * The base64 of the secret's bytes as they would appear after 0, 1 or 2 bytes of other data: the
 * characters that depend on the secret alone (whole 3-byte groups), in both alphabets, plus the whole
 * padded and unpadded encoding of the secret by itself.
 */
function base64Fragments(bytes: Buffer): string[] {
  const fragments = [bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')];
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const firstWholeGroup = offset === 0 ? 0 : 1;
    const wholeGroups = Math.floor((offset + bytes.length) / 3);
    fragments.push(encoded.slice(firstWholeGroup * 4, wholeGroups * 4));
  }
  const withUrlAlphabet = fragments.map((fragment) => fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  return [...new Set([...fragments, ...withUrlAlphabet])].filter((fragment) => fragment.length >= MIN_BASE64_FRAGMENT);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
