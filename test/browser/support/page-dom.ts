/**
 * The few DOM shapes that functions run inside the page touch. The project compiles without the DOM
 * library on purpose (server code must not see `window`), so page functions cast `globalThis` to this.
 */
export interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  readonly value: number;
  readonly complete: boolean;
  readonly naturalWidth: number;
}

export interface PageWindow {
  readonly document: { getElementById(id: string): PageElement | null };
  readonly MutationObserver: new (callback: () => void) => {
    observe(target: PageElement, options: { attributes: boolean; attributeFilter: string[] }): void;
  };
  progressSeen?: number[];
}

/** What a widget page (support/widget-pages) reports: one entry per upload its widget finished. */
export interface WidgetOutcome {
  readonly state: 'success' | 'error';
  readonly id?: string;
  readonly status?: number;
  readonly code?: string | null;
  readonly message?: string | null;
}

/** The globals a widget page sets up (widget-harness.js and the page's own script). */
export interface WidgetWindow {
  readonly widgetReady?: boolean;
  readonly outcomes: WidgetOutcome[];
  /** [bytes sent, total or null] (FilePond: [fraction, 1]), as the widget's progress callback gave them. */
  readonly progress: Array<[number, number | null]>;
  /** The parts of each FormData the widget sent over XHR, in order. */
  readonly formsSent: Array<Array<{ name: string; file: boolean }>>;
  addTestFile(name: string, type: string, base64: string): void;
}
