/** The tus metadata keys clients use for the file's type and name (tus-js-client: as given; Uppy: both spellings). */
const TYPE_KEYS = ['filetype', 'type', 'contentType'] as const;
const NAME_KEYS = ['filename', 'name'] as const;

export type TusMetadata = Readonly<Record<string, string | null>> | undefined;

export interface DeclaredFile {
  readonly declaredType: string | undefined;
  readonly declaredName: string | undefined;
}

/** What the client said the file is, from the upload's Upload-Metadata. */
export function declaredFileOf(metadata: TusMetadata): DeclaredFile {
  const first = (keys: readonly string[]): string | undefined => {
    for (const key of keys) {
      const value = metadata?.[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    return undefined;
  };
  return { declaredType: first(TYPE_KEYS), declaredName: first(NAME_KEYS) };
}

/** Upload ids are what namingFunction makes: 32 lower-case hex digits. Anything else is no upload of ours. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;
