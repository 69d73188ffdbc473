/** A dependency that readiness reports on, e.g. the shared rate-limit store. */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves to a short status word; `ok: false` makes the instance not ready. */
  check(): Promise<{ ok: boolean; status: string }>;
}

/**
 * Whether this instance should get traffic. It stops being ready the moment shutdown begins, so the
 * load balancer drains it while uploads in flight finish.
 */
export class Readiness {
  #shuttingDown = false;
  readonly #checks: ReadinessCheck[] = [];

  add(check: ReadinessCheck): void {
    this.#checks.push(check);
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = { shutdown: this.#shuttingDown ? 'in progress' : 'no' };
    let ready = !this.#shuttingDown;
    for (const dependency of this.#checks) {
      const result = await dependency.check().catch(() => ({ ok: false, status: 'check failed' }));
      checks[dependency.name] = result.status;
      ready &&= result.ok;
    }
    return { ready, checks };
  }
}
