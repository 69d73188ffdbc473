import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be printed: logging, JSON-serialising or inspecting it shows "[redacted]".
 * Only `reveal()` gives the value, and only the code that sends it upstream calls it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
