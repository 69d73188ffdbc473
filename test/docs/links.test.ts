import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, documentationFiles, headingAnchors, linkTargets, readDoc } from './support/markdown';

/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file (or folder) exists in the
 * repository, and an #anchor names a heading of the page it points at. Links to other sites are not
 * fetched (the suite runs offline).
 */

interface Link {
  readonly from: string;
  readonly target: string;
}

function relativeLinks(): Link[] {
  return documentationFiles().flatMap((from) =>
    linkTargets(readDoc(from))
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
      .map((target) => ({ from, target })),
  );
}

/** Why a link does not resolve, or undefined when it does. */
function problemOf({ from, target }: Link): string | undefined {
  const [filePart, anchor] = target.split('#', 2) as [string, string | undefined];
  const resolved = filePart === '' ? path.join(REPO_ROOT, from) : path.resolve(REPO_ROOT, path.dirname(from), decodeURI(filePart));
  const inRepository = path.relative(REPO_ROOT, resolved);
  if (inRepository.startsWith('..') || path.isAbsolute(inRepository)) return 'points outside the repository';
  if (!existsSync(resolved)) return 'no such file';
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return 'an anchor into a file that is not Markdown';
  return headingAnchors(readDoc(inRepository)).has(anchor) ? undefined : `no heading #${anchor}`;
}

it('finds the pages and links it checks', () => {
  const files = documentationFiles();
  expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'docs/browser.md', 'docs/configuration.md']));
  // A link parser that found nothing would pass every check below.
  expect(relativeLinks().length).toBeGreaterThan(50);
  expect(relativeLinks().filter(({ target }) => target.includes('#')).length).toBeGreaterThan(20);
});

it('resolves every relative link to a file and every #anchor to a heading', () => {
  const broken = relativeLinks()
    .map((link) => ({ ...link, problem: problemOf(link) }))
    .filter(({ problem }) => problem !== undefined)
    .map(({ from, target, problem }) => `${from}: (${target}) ${problem}`);
  expect(broken).toEqual([]);
});
