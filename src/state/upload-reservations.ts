import { REDIS_KEY_PREFIX, type RedisConnection } from './redis-connection';

/** How much of the resumable store one client, and all clients together, may hold. */
export interface ReservationLimits {
  /** RESUMABLE_MAX_DISK_BYTES: the declared bytes of every unfinished upload together. */
  readonly totalBytes: number;
  /** RESUMABLE_MAX_BYTES_PER_CLIENT: one client's share of it. */
  readonly bytesPerClient: number;
  /** MAX_RESUMABLE_UPLOADS_PER_CLIENT: one client's unfinished uploads. */
  readonly uploadsPerClient: number;
}

/** Why a reservation was refused: the store as a whole is full, or this client holds its share. */
export type ReservationRefusal = 'store-full' | 'client-uploads' | 'client-bytes';

/**
 * The declared bytes of every unfinished resumable upload, as running totals: one for the store and
 * one per client (its bytes and its number of uploads). A creation reserves its Upload-Length before
 * its first byte is stored and the reservation is dropped when the upload leaves the store (forwarded,
 * refused, terminated or expired), so admitting a creation costs the same with 2 or 2,000 uploads
 * stored, and no client can hold more than its share however slowly it sends.
 */
export interface UploadReservations {
  /** Reserves `bytes` for upload `id` of `clientKey`; undefined when granted (or `id` already holds one). */
  reserve(id: string, clientKey: string, bytes: number): Promise<ReservationRefusal | undefined>;
  /**
   * Counts an upload already in the store (found at start) against the store's total, not against
   * any client: after a restart or a lost Redis the total stays true to what the disk holds.
   */
  adopt(id: string, bytes: number): Promise<void>;
  /** Drops upload `id`'s reservation; a second call, or one for an unknown id, does nothing. */
  release(id: string): Promise<void>;
  /** The running totals (for metrics and tests). */
  totals(clientKey?: string): Promise<{ bytes: number; uploads: number; clientBytes: number; clientUploads: number }>;
}

/** One process's reservations: alone when REDIS_URL is unset (then one replica owns the store). */
export class MemoryUploadReservations implements UploadReservations {
  readonly #limits: ReservationLimits;
  readonly #byId = new Map<string, { clientKey: string; bytes: number }>();
  readonly #byClient = new Map<string, { bytes: number; uploads: number }>();
  #bytes = 0;

  constructor(limits: ReservationLimits) {
    this.#limits = limits;
  }

  reserve(id: string, clientKey: string, bytes: number): Promise<ReservationRefusal | undefined> {
    if (this.#byId.has(id)) return Promise.resolve(undefined);
    const client = this.#byClient.get(clientKey) ?? { bytes: 0, uploads: 0 };
    const refusal = refusalFor(this.#limits, this.#bytes, client, bytes);
    if (refusal !== undefined) return Promise.resolve(refusal);
    this.#byId.set(id, { clientKey, bytes });
    this.#byClient.set(clientKey, { bytes: client.bytes + bytes, uploads: client.uploads + 1 });
    this.#bytes += bytes;
    return Promise.resolve(undefined);
  }

  adopt(id: string, bytes: number): Promise<void> {
    if (!this.#byId.has(id)) {
      this.#byId.set(id, { clientKey: ADOPTED, bytes });
      this.#bytes += bytes;
    }
    return Promise.resolve();
  }

  release(id: string): Promise<void> {
    const held = this.#byId.get(id);
    if (held === undefined) return Promise.resolve();
    this.#byId.delete(id);
    this.#bytes -= held.bytes;
    const client = this.#byClient.get(held.clientKey);
    if (client !== undefined) {
      // Clients with nothing reserved leave the map, so it holds only current uploaders.
      if (client.uploads <= 1) this.#byClient.delete(held.clientKey);
      else this.#byClient.set(held.clientKey, { bytes: client.bytes - held.bytes, uploads: client.uploads - 1 });
    }
    return Promise.resolve();
  }

  totals(clientKey?: string): Promise<{ bytes: number; uploads: number; clientBytes: number; clientUploads: number }> {
    const client = clientKey === undefined ? undefined : this.#byClient.get(clientKey);
    return Promise.resolve({ bytes: this.#bytes, uploads: this.#byId.size, clientBytes: client?.bytes ?? 0, clientUploads: client?.uploads ?? 0 });
  }
}

/** The client key of an adopted reservation: counted in the store's total only. */
const ADOPTED = '';

function refusalFor(limits: ReservationLimits, storeBytes: number, client: { bytes: number; uploads: number }, bytes: number): ReservationRefusal | undefined {
  if (client.uploads >= limits.uploadsPerClient) return 'client-uploads';
  if (client.bytes + bytes > limits.bytesPerClient) return 'client-bytes';
  if (storeBytes + bytes > limits.totalBytes) return 'store-full';
  return undefined;
}

const PREFIX = `${REDIS_KEY_PREFIX}resumable:`;
const TOTAL_KEY = `${PREFIX}reserved-bytes`;
const UPLOADS_KEY = `${PREFIX}reservations`;
const CLIENT_PREFIX = `${PREFIX}client:`;

/**
 * KEYS: store total, reservations hash, client bytes, client uploads. ARGV: id, client key, bytes,
 * total limit, client bytes limit, client uploads limit. One script, so two replicas admitting at
 * once cannot both take the last room. Refusal codes as in REFUSALS.
 */
const RESERVE = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local bytes = tonumber(ARGV[3])
local clientBytes = tonumber(redis.call('GET', KEYS[3]) or '0')
local clientUploads = tonumber(redis.call('GET', KEYS[4]) or '0')
if clientUploads >= tonumber(ARGV[6]) then return 2 end
if clientBytes + bytes > tonumber(ARGV[5]) then return 3 end
if tonumber(redis.call('GET', KEYS[1]) or '0') + bytes > tonumber(ARGV[4]) then return 1 end
redis.call('INCRBY', KEYS[1], bytes)
redis.call('INCRBY', KEYS[3], bytes)
redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\n' .. ARGV[3])
return 0`;

/**
 * KEYS: store total, reservations hash. ARGV: id, client key prefix. The client's counters are named
 * from the client key kept in the reservation (a single Redis, not a cluster: every key of this
 * service lives on it). A counter that reaches zero is deleted, so idle clients leave nothing behind.
 */
const RELEASE = `
local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return 0 end
local cut = string.find(held, '\\n', 1, true)
local client = string.sub(held, 1, cut - 1)
local bytes = tonumber(string.sub(held, cut + 1))
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DECRBY', KEYS[1], bytes)
if client == '' then return 1 end
local clientBytes = ARGV[2] .. client .. ':bytes'
local clientUploads = ARGV[2] .. client .. ':uploads'
if redis.call('DECRBY', clientBytes, bytes) <= 0 then redis.call('DEL', clientBytes) end
if redis.call('DECR', clientUploads) <= 0 then redis.call('DEL', clientUploads) end
return 1`;

/** KEYS: store total, reservations hash. ARGV: id, bytes. Counted once, in the total only. */
const ADOPT = `
if redis.call('HSETNX', KEYS[2], ARGV[1], '\\n' .. ARGV[2]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[2]) end
return 0`;

const REFUSALS: Readonly<Record<number, ReservationRefusal>> = { 1: 'store-full', 2: 'client-uploads', 3: 'client-bytes' };

/** Every replica's reservations in the shared Redis, beside the other shared state. */
export class RedisUploadReservations implements UploadReservations {
  readonly #redis: RedisConnection;
  readonly #limits: ReservationLimits;

  constructor(redis: RedisConnection, limits: ReservationLimits) {
    this.#redis = redis;
    this.#limits = limits;
  }

  async reserve(id: string, clientKey: string, bytes: number): Promise<ReservationRefusal | undefined> {
    const { totalBytes, bytesPerClient, uploadsPerClient } = this.#limits;
    const answer = await this.#redis.sendCommand([
      'EVAL', RESERVE, '4', TOTAL_KEY, UPLOADS_KEY, `${CLIENT_PREFIX}${clientKey}:bytes`, `${CLIENT_PREFIX}${clientKey}:uploads`,
      id, clientKey, String(bytes), String(totalBytes), String(bytesPerClient), String(uploadsPerClient),
    ]);
    return REFUSALS[Number(answer)];
  }

  async adopt(id: string, bytes: number): Promise<void> {
    await this.#redis.sendCommand(['EVAL', ADOPT, '2', TOTAL_KEY, UPLOADS_KEY, id, String(bytes)]);
  }

  async release(id: string): Promise<void> {
    await this.#redis.sendCommand(['EVAL', RELEASE, '2', TOTAL_KEY, UPLOADS_KEY, id, CLIENT_PREFIX]);
  }

  async totals(clientKey?: string): Promise<{ bytes: number; uploads: number; clientBytes: number; clientUploads: number }> {
    const keys = [TOTAL_KEY, ...(clientKey === undefined ? [] : [`${CLIENT_PREFIX}${clientKey}:bytes`, `${CLIENT_PREFIX}${clientKey}:uploads`])];
    const values: unknown = await this.#redis.sendCommand(['MGET', ...keys]);
    const [bytes, clientBytes, clientUploads] = values as Array<string | null>;
    const uploads = Number(await this.#redis.sendCommand(['HLEN', UPLOADS_KEY]));
    return { bytes: Number(bytes ?? 0), uploads, clientBytes: Number(clientBytes ?? 0), clientUploads: Number(clientUploads ?? 0) };
  }
}
