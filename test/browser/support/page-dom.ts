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
