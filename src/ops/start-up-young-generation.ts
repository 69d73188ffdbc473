import v8 from 'node:v8';

/**
 * Holds V8's young generation at its starting size while the process loads its modules, and lets it
 * grow again once they are loaded.
 *
 * Nearly everything allocated while modules load (their functions, the config, the metrics registry)
 * lives as long as the process. V8 reads those survivors as a sign that its young generation is too
 * small and doubles it at each scavenge, to 8 MB semi-spaces before the first request: an idle replica
 * then holds about 7 MB of young generation it has no use for, and a short large upload starts from it
 * (bench/changes.md, sixth session). With a growth factor of 1 the start-up survivors are promoted to
 * the old generation, where they belong anyway; from the first turn of the event loop the factor is
 * V8's default again, so the young generation still grows under load (small files at high
 * concurrency need it) up to `--max-semi-space-size`.
 *
 * This module must be the entry's first import: only what loads after it is covered.
 */
const HELD_GROWTH_FACTOR = 1;

/** V8's default (`node --v8-options`); a value passed on the command line is not restored. */
const DEFAULT_GROWTH_FACTOR = 2;

v8.setFlagsFromString(`--semi-space-growth-factor=${HELD_GROWTH_FACTOR}`);
// Every synchronous require of the entry (the whole import graph, the config, the dependencies)
// has run by the time the event loop takes its first turn.
setImmediate(() => v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`));
