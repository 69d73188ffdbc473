/** Where the URL of an unfinished tus upload is kept, keyed by the file's fingerprint. */
export interface ResumeStore {
  get(key: string): string | null;
  set(key: string, url: string): void;
  remove(key: string): void;
}

const PREFIX = 'heygen-upload:';

/**
 * localStorage, when the page may use it: storage can be disabled or full (private windows, quotas),
 * and a lost resume URL only costs a fresh upload, so such failures are swallowed.
 */
export function browserResumeStore(): ResumeStore | null {
  let storage: Storage;
  try {
    storage = globalThis.localStorage;
    if (storage === undefined) return null;
  } catch {
    return null;
  }
  return {
    get: (key) => {
      try {
        return storage.getItem(PREFIX + key);
      } catch {
        return null;
      }
    },
    set: (key, url) => {
      try {
        storage.setItem(PREFIX + key, url);
      } catch {
        // No room: the upload still runs, it just cannot be resumed after a reload.
      }
    },
    remove: (key) => {
      try {
        storage.removeItem(PREFIX + key);
      } catch {
        // Nothing to undo.
      }
    },
  };
}

/** The same file (name, type, size, modification time) to the same endpoint: the tus fingerprint. */
export function fingerprint(file: File, endpoint: string): string {
  return [endpoint, file.name, file.type, file.size, file.lastModified].join('|');
}
