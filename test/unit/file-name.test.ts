import { MAX_NAME_CODE_POINTS, safeFileName } from '../../src/upload/file-name';

const EMOJI = '😀';

/** A string with a surrogate that has no partner: no UTF-8 form exists for it. */
function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text);
}

describe('safeFileName', () => {
  it('cuts a long name by code points, keeping an emoji that straddles the cut whole', () => {
    // 130 UTF-16 units: the emoji's two halves sit at units 119 and 120, either side of the cut.
    const declared = `${'a'.repeat(MAX_NAME_CODE_POINTS - 1)}${EMOJI}${'b'.repeat(5)}.png`;
    expect(declared).toHaveLength(130);

    const name = safeFileName(declared, 'image/png');

    expect(hasLoneSurrogate(name)).toBe(false);
    expect(() => encodeURIComponent(name)).not.toThrow();
    expect([...name].length).toBeLessThanOrEqual(MAX_NAME_CODE_POINTS);
    expect(name).toBe(`${'a'.repeat(MAX_NAME_CODE_POINTS - 1)}${EMOJI}`);
  });

  it('counts an emoji as one character of the limit', () => {
    const name = safeFileName(EMOJI.repeat(MAX_NAME_CODE_POINTS + 10), 'image/png');
    expect(name).toBe(EMOJI.repeat(MAX_NAME_CODE_POINTS));
  });

  it.each([
    ['a high surrogate alone', 'photo\uD83D.png'],
    ['a low surrogate alone', 'photo\uDE00.png'],
    ['the halves in the wrong order', 'photo\uDE00\uD83D.png'],
  ])('makes a name with %s well-formed (U+FFFD in its place)', (_case, declared) => {
    const name = safeFileName(declared, 'image/png');
    expect(hasLoneSurrogate(name)).toBe(false);
    expect(() => encodeURIComponent(name)).not.toThrow();
    expect(name).toMatch(/^photo\uFFFD+\.png$/u);
  });

  it('keeps a non-ASCII name as it is', () => {
    expect(safeFileName('Café 😀.png', 'image/png')).toBe('Café 😀.png');
  });
});
