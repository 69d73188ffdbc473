import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, VARIABLES } from '../../src/config';
import { REPO_ROOT } from './support/k8s';

// Static checks of compose.yaml and of the override scripts/compose-verify.sh runs it with.
// scripts/compose-verify.sh brings the stack up for real (in .ci/run); these catch a regression in
// `npm test` without a container engine.

interface Service {
  readonly image?: string;
  readonly build?: unknown;
  readonly environment?: string[];
  readonly ports?: string[];
  readonly volumes?: string[];
  readonly read_only?: boolean;
  readonly cap_drop?: string[];
  readonly security_opt?: string[];
  readonly depends_on?: string[];
  readonly stop_grace_period?: string;
  readonly [key: string]: unknown;
}

function readCompose(file: string): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  return parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
}

const compose = readCompose('compose.yaml');
const proxy = compose.services.proxy!;
const override = readCompose('scripts/compose-verify/compose.verify.yaml');

/** `NAME=value` or `NAME` (passed on from the shell or .env) → NAME. */
function variableNames(environment: readonly string[] | undefined): string[] {
  return (environment ?? []).map((entry) => entry.split('=')[0]!);
}

function valueOf(environment: readonly string[] | undefined, name: string): string | undefined {
  const entry = (environment ?? []).find((candidate) => candidate.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

describe('compose.yaml', () => {
  it('runs the proxy from the Dockerfile and Redis from the public redis:7 image', () => {
    expect(proxy.build).toBe('.');
    expect(compose.services.redis!.image).toBe('redis:7');
  });

  it("points the proxy's REDIS_URL at the redis service, and starts Redis first", () => {
    const url = new URL(valueOf(proxy.environment, 'REDIS_URL')!);
    expect(url.protocol).toBe('redis:');
    expect(Object.keys(compose.services)).toContain(url.hostname);
    expect(url.port).toBe('6379');
    expect(proxy.depends_on).toContain(url.hostname);
  });

  it('requires HEYGEN_API_KEY and sets only variables the service knows', () => {
    expect(valueOf(proxy.environment, 'HEYGEN_API_KEY')).toMatch(/^\$\{HEYGEN_API_KEY:\?.+\}$/);
    for (const name of variableNames(proxy.environment)) expect(Object.keys(VARIABLES)).toContain(name);
  });

  it('passes optional settings on only when set, never as an empty value or an empty default', () => {
    // podman-compose 1.0.3 leaves `${X:-}` (an empty default) unsubstituted, and `X: ""` is not "unset" to every tool.
    for (const entry of proxy.environment ?? []) expect(entry).not.toMatch(/:-\}|=$/);
  });

  it("publishes the container's port on loopback only, and not Redis", () => {
    expect(proxy.ports).toEqual([`127.0.0.1:\${PROXY_PORT:-3000}:${loadConfig({ HEYGEN_API_KEY: 'compose-test' }).port}`]);
    expect(compose.services.redis!.ports).toBeUndefined();
  });

  it('runs the proxy as Kubernetes does: read-only root, no capabilities, no privilege escalation, /tmp writable', () => {
    expect(proxy.read_only).toBe(true);
    expect(proxy.cap_drop).toEqual(['ALL']);
    expect(proxy.security_opt).toContain('no-new-privileges:true');
    const tmp = (proxy.volumes ?? []).find((volume) => volume.split(':')[1] === '/tmp');
    expect(tmp).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(tmp!.split(':')[0]);
  });

  it("gives a stopping proxy more time than its drain (SHUTDOWN_GRACE_MS's default) before it is killed", () => {
    const graceSeconds = Number(/^(\d+)s$/.exec(proxy.stop_grace_period ?? '')?.[1]);
    expect(graceSeconds * 1000).toBeGreaterThan(loadConfig({ HEYGEN_API_KEY: 'compose-test' }).shutdownGraceMs);
  });
});

describe("compose-verify's override", () => {
  it('changes only images and the upstream: the rest of what it runs is compose.yaml', () => {
    const { proxy: overriddenProxy, redis, ...added } = override.services;
    expect(Object.keys(overriddenProxy!).sort()).toEqual(['depends_on', 'environment', 'image']);
    expect(variableNames(overriddenProxy!.environment).sort()).toEqual(['HEYGEN_API', 'HEYGEN_API_BASE_URL']);
    expect(overriddenProxy!.depends_on).toEqual(expect.arrayContaining(proxy.depends_on ?? []));
    expect(Object.keys(redis!)).toEqual(['image']);
    expect(Object.keys(added)).toEqual(['upstream']);
  });
});
