import fs from 'node:fs';

/** The parts of a V8 .cpuprofile (as `node --cpu-prof` writes it) that the summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;
const PROJECT_FILE = /\/(dist\/[^/]+(?:\/[^/]+)?)\.js$/;

/**
 * Splits a CPU profile by who is responsible: each sample goes to the nearest frame on its stack
 * that belongs to a package or to the project (node's own stream, socket and event code counts for
 * whoever called it). Idle, GC and native code with no such caller keep their own names.
 */
export function responsibility(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const ownerCache = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    let owner: string | undefined;
    for (let current: number | undefined = id; current !== undefined && owner === undefined; current = parentOf.get(current)) {
      const url = byId.get(current)?.callFrame.url ?? '';
      owner = PACKAGE.exec(url)?.[1] ?? PROJECT_FILE.exec(url)?.[1];
    }
    const frame = byId.get(id)?.callFrame;
    owner ??= `node: ${frame?.url.split('/').pop() || frame?.functionName || '?'}`;
    ownerCache.set(id, owner);
    return owner;
  };

  const micros = new Map<string, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i, so sample i lasted timeDeltas[i + 1]
  // (as Chrome DevTools counts it).
  profile.samples.forEach((id, index) => {
    const owner = ownerOf(id);
    micros.set(owner, (micros.get(owner) ?? 0) + (profile.timeDeltas[index + 1] ?? 0));
  });
  return micros;
}

/** A Markdown table of the top owners of one profile, as shares of the busy (non-idle) time. */
export function summariseProfile(file: string, top = 20): string {
  const micros = responsibility(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile);
  const idle = micros.get('node: (idle)') ?? 0;
  micros.delete('node: (idle)');
  const busy = [...micros.values()].reduce((sum, value) => sum + value, 0);
  const rows = [...micros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([owner, value]) => `| ${owner} | ${busy > 0 ? ((value / busy) * 100).toFixed(1) : '—'}% |`);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s (start-up and waits included)`,
    '',
    '| responsible (nearest package or project file on the stack) | share of busy time |',
    '|---|---:|',
    ...rows,
  ].join('\n');
}
