import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freeLoopbackPort } from './redis-server';
import { waitForPath } from './wait';

const run = promisify(execFile);

/** The programs of Debian's Ceph packages (radosgw, ceph-mon, ceph-osd, ceph-common) the local S3 server needs. */
const CEPH_PROGRAMS = ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd', 'ceph', 'ceph-authtool', 'monmaptool'] as const;

/** The S3 user the tests' proxies sign as (any string works: RGW checks it against its own user table). */
const ACCESS_KEY = 'hup-test-access';
const SECRET_KEY = 'hup-test-secret-0123456789abcdef';

export interface S3Server {
  /** http://127.0.0.1:<port>, RGW's S3 endpoint. */
  readonly endpoint: string;
  /** The environment a proxy needs to store resumable uploads in `bucket` there. */
  envFor(bucket: string): Record<string, string>;
  /** Creates a bucket (names must be unique per server). */
  createBucket(bucket: string): Promise<void>;
  /** A client signed as the test user, for tests that look into the bucket. */
  readonly client: S3Client;
  /**
   * Resolves once RGW's access log has a line matching `pattern` (e.g. the PUT of a multipart part),
   * re-reading the log on each of its changes: the store's own record of what it was sent.
   */
  waitForRequest(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The keys in `bucket` (every object: uploads, info objects, incomplete parts, records). */
  keys(bucket: string): Promise<string[]>;
  /** The keys of `bucket`'s multipart uploads still in progress. */
  multipartUploads(bucket: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Fails with a one-line hint when Ceph's programs are not installed: these tests never skip. */
export function assertCephInstalled(): void {
  for (const program of CEPH_PROGRAMS) {
    const probe = spawnSync('sh', ['-c', `command -v ${program}`]);
    if (probe.status !== 0) throw new Error(`${program} not found: install Ceph's S3 gateway (apt-get install radosgw ceph-mon ceph-osd ceph-common) to run the S3-store tests`);
  }
}

/**
 * Ceph's own S3 implementation (RADOS Gateway) on a one-node cluster on loopback, all under one temp
 * directory, as Ceph's vstart.sh makes for its own developers: one monitor, one OSD whose objects live
 * in memory (memstore, so nothing touches a disk beyond the temp directory), and radosgw with its beast
 * frontend. Every daemon runs in the foreground as a child of this process and dies with stop().
 * Starting takes about ten seconds (RGW creates its pools on first start).
 */
export async function startS3Server(): Promise<S3Server> {
  assertCephInstalled();
  const dir = await mkdtemp(join(tmpdir(), 'ceph-rgw-'));
  const [monPort, rgwPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const conf = join(dir, 'ceph.conf');
  const keyring = join(dir, 'keyring');
  const fsid = randomUUID();
  const rgwLog = join(dir, 'log', 'client.rgw.a.log');
  for (const sub of ['run', 'log', 'mon.a', 'osd.0']) await mkdir(join(dir, sub));
  await writeFile(
    conf,
    [
      '[global]',
      `fsid = ${fsid}`,
      `mon host = v2:127.0.0.1:${monPort}`,
      `keyring = ${keyring}`,
      `run dir = ${dir}/run`,
      `admin socket = ${dir}/run/$name.$pid.asok`,
      `log file = ${dir}/log/$name.log`,
      'public addr = 127.0.0.1',
      'ms bind msgr1 = false',
      // One OSD: every pool keeps one copy, and Ceph must not wait for a second.
      'osd pool default size = 1',
      'osd pool default min size = 1',
      'osd crush chooseleaf type = 0',
      'mon allow pool size one = true',
      'mon warn on pool no redundancy = false',
      '[mon.a]',
      `mon data = ${dir}/mon.a`,
      '[osd.0]',
      `osd data = ${dir}/osd.0`,
      'osd objectstore = memstore',
      `memstore device bytes = ${2 * 1024 * 1024 * 1024}`,
      '[client.rgw.a]',
      `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`,
      `rgw data = ${dir}/rgw`,
      '',
    ].join('\n'),
  );
  const children: ChildProcess[] = [];
  const daemon = (program: string, args: string[]): ChildProcess => {
    // Each daemon logs to its file under `dir`/log (radosgw's ready line is read from there).
    const child = spawn(program, ['-c', conf, ...args], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('ceph-authtool', ['--create-keyring', '--gen-key', '--name=mon.', keyring, '--cap', 'mon', 'allow *']);
    await run('ceph-authtool', ['--gen-key', '--name=client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *', keyring]);
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    await run('ceph-mon', ['-c', conf, '-i', 'a', '--mkfs', '--monmap', join(dir, 'monmap'), '--keyring', keyring]);
    daemon('ceph-mon', ['-f', '-i', 'a']);
    const osdUuid = randomUUID();
    const osdSecret = (await run('ceph-authtool', ['--gen-print-key'])).stdout.trim();
    const osdKeyring = join(dir, 'osd.0', 'keyring');
    await writeFile(join(dir, 'osd.json'), JSON.stringify({ cephx_secret: osdSecret }));
    // The ceph CLI waits for the monitor to come up (no polling here).
    await run('ceph', ['-c', conf, 'osd', 'new', osdUuid, '-i', join(dir, 'osd.json')]);
    await writeFile(osdKeyring, `[osd.0]\n\tkey = ${osdSecret}\n`);
    await run('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid, '--keyring', osdKeyring]);
    daemon('ceph-osd', ['-f', '-i', '0', '--keyring', osdKeyring]);
    const rgwKey = (await run('ceph', ['-c', conf, 'auth', 'get-or-create', 'client.rgw.a', 'mon', 'allow rw', 'osd', 'allow rwx'])).stdout;
    await writeFile(keyring, rgwKey, { flag: 'a' });
    const rgw = daemon('radosgw', ['-f', '-n', 'client.rgw.a']);
    await rgwReady(rgw, rgwLog);
    await run('radosgw-admin', ['-c', conf, '-n', 'client.admin', 'user', 'create', '--uid=hup-test', '--display-name=hup-test', `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`]);
  } catch (error) {
    await stop();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  // The SDK's once-per-process notice that its 2027 releases need Node 22 is no test's business.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  return {
    endpoint,
    client,
    envFor(bucket) {
      // The SDK's default credential chain reads these, as it would in a pod (config.ts never does).
      return { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', RESUMABLE_STORE: 's3', RESUMABLE_S3_BUCKET: bucket, RESUMABLE_S3_REGION: 'us-east-1', RESUMABLE_S3_ENDPOINT: endpoint, RESUMABLE_S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY };
    },
    async waitForRequest(pattern, timeoutMs = 20_000) {
      await waitForPath(
        rgwLog,
        () => readFile(rgwLog, 'utf8'),
        (log) => pattern.test(log),
        (log) => `RGW's log never showed ${String(pattern)}; its last requests: ${log.split('\n').filter((line) => /beast:.*"(PUT|POST|DELETE) /.test(line)).slice(-6).join('\n')}`,
        timeoutMs,
      );
    },
    async keys(bucket) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '');
    },
    async multipartUploads(bucket) {
      const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (listed.Uploads ?? []).map((upload) => upload.Key ?? '');
    },
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async stop() {
      client.destroy();
      await stop();
    },
  };
}

/**
 * Resolves once radosgw's log says "starting handler: beast" (it listens from then on), re-reading the
 * log on each change of its directory; fails if radosgw exits first or is not up within a minute.
 */
async function rgwReady(child: ChildProcess, logFile: string): Promise<void> {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`radosgw exited with ${String(code)} before it was ready; see ${logFile}`);
  });
  const started = waitForPath(
    dirname(logFile),
    () => readFile(logFile, 'utf8').catch(() => ''),
    (log) => log.includes('starting handler: beast'),
    (log) => `radosgw was not ready within a minute: ${log.slice(-500)}`,
    60_000,
  );
  await Promise.race([started, exited]);
}
