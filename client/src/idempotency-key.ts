/**
 * A fresh Idempotency-Key for one upload: 128 random bits in hex. crypto.getRandomValues rather than
 * randomUUID, which browsers give only to secure contexts (a page on a plain-http intranet host has none).
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `hup-web-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}
