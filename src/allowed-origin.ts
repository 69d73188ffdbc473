/**
 * One entry of ALLOWED_ORIGINS, written by a person, turned into the form a browser sends in its
 * Origin header, or refused with what to write instead.
 *
 * The origin check compares strings (http/origin-policy.ts), and browsers always send the serialised
 * origin: lower-case scheme and host, no default port, no trailing slash, an IDN in punycode. So
 * `https://App.example.com/` or `https://app.example.com:443` would never match anything; they are
 * rewritten here, once at start, rather than refused for a slash. Anything that is more than an origin
 * (a path, a query, credentials) or less (no scheme), and wildcards, which the check does not
 * support, are refused with the line to write instead, so the process stops at start instead of
 * refusing every upload from the page the operator meant to allow.
 */
export type OriginReading = { readonly origin: string } | { readonly problem: string };

const EXAMPLE = 'https://app.example.com';
/** Kept word for word: it is the message for an entry that is not a URL at all. */
export const NOT_AN_ORIGIN_LIST = `ALLOWED_ORIGINS must be a comma-separated list of origins such as ${EXAMPLE}`;

export function readAllowedOrigin(written: string): OriginReading {
  if (written.includes('*')) {
    return { problem: `ALLOWED_ORIGINS: "${written}" is a wildcard, which is not supported; list each origin in full, such as ${EXAMPLE},https://admin.example.com` };
  }
  // "localhost:3001" parses as a URL whose scheme is "localhost:"; give it a scheme before judging it.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(written)) {
    const withScheme = `http://${written}`;
    return URL.canParse(withScheme) && new URL(withScheme).host !== ''
      ? { problem: `ALLOWED_ORIGINS: "${written}" has no scheme; write it with one, such as ${new URL(withScheme).origin} or https://${new URL(withScheme).host}` }
      : { problem: NOT_AN_ORIGIN_LIST };
  }
  if (!URL.canParse(written)) return { problem: NOT_AN_ORIGIN_LIST };
  const url = new URL(written);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `ALLOWED_ORIGINS: "${written}" is not an http:// or https:// origin; browsers upload only from those` };
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { problem: `ALLOWED_ORIGINS: "${written}" is more than an origin (scheme://host[:port], no path); write ${url.origin}` };
  }
  return { origin: url.origin };
}
