/**
 * Streaming mode's "every byte sent, but no end of body yet": an InspectedStream given a HeldEnd
 * calls `onWritten` once all its input has passed every inspector, and keeps its readable side open
 * until `release()`. HeyGen then has every byte but no end of body, so a late refusal (a form error
 * after the file part, a client that goes away) can still abort the request and no asset is made.
 */
export class HeldEnd {
  readonly #onWritten: () => void;
  #released = false;
  #end: (() => void) | undefined;

  constructor(onWritten: () => void) {
    this.#onWritten = onWritten;
  }

  /** Called by the stream once all its input has passed: ends at once if released, else tells `onWritten` and waits. */
  endWhenReleased(end: () => void): void {
    if (this.#released) {
      end();
      return;
    }
    this.#end = end;
    this.#onWritten();
  }

  /** Ends the readable side (at once, or as soon as all input has passed). */
  release(): void {
    this.#released = true;
    const end = this.#end;
    this.#end = undefined;
    end?.();
  }
}
