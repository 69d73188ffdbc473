import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECK_RUN, REPLICA_FIGURES, sizeDeployment } from './capacity-model';
import { upload } from './client';
import { PROJECT_ENV, startCommand, startSink } from './contenders';
import { type Fixture, makePng, makeSizedVideo } from './fixtures';
import { cpuSeconds, currentRss, peakRss, resetPeakRss } from './proc-stats';
import { freePort, installExitHandlers, onExit, type ServerProcess, startServer, stopServer } from './processes';

/**
 * `npm run bench:capacity`: the capacity model (bench/capacity-model.ts, docs/production.md) against a
 * run. REPLICAS project replicas (v3, buffered, each at the pod's MAX_CONCURRENT_UPLOADS) share one
 * Redis behind a local nginx (round robin), and take a mixed load sized from the model: every
 * replica's slots full, a few of them 100 MiB videos and the rest small images back to back, until
 * the videos are through. The model's prediction for exactly what was sent stands beside what was
 * measured: CPU of all replicas, each replica's peak RSS, Redis commands. Writes bench/capacity-check.md.
 * Needs nginx and redis-server on PATH (Debian: apt-get install nginx-light redis-server).
 */

// Compiled to bench/results/build/capacity-check.js, so the repository is three levels up.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const MIB = 1024 * 1024;

function need(program: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error(`${program} is not installed (Debian: apt-get install ${program === 'nginx' ? 'nginx-light' : 'redis-server'})`);
  return found;
}

/** Scripts run (EVAL, EVALSHA: one round trip each) and every command Redis ran, the scripts' own included. */
function redisCommands(port: number): { scripts: number; all: number } {
  const info = spawnSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], { encoding: 'utf8' }).stdout;
  // Leave out what this script itself asks (INFO) and the clients' handshakes.
  const counted = [...info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].filter(([, name]) => !['info', 'hello', 'ping'].includes(name ?? '') && !name?.startsWith('client'));
  const calls = (names: readonly string[]): number => counted.filter(([, name]) => names.includes(name ?? '')).reduce((sum, [, , n]) => sum + Number(n), 0);
  return { scripts: calls(['eval', 'evalsha']), all: counted.reduce((sum, [, , n]) => sum + Number(n), 0) };
}

function nginxConfig(prefix: string, listen: number, replicas: readonly number[]): string {
  return `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream replicas { ${replicas.map((port) => `server 127.0.0.1:${port};`).join(' ')} keepalive 64; }
  server {
    listen 127.0.0.1:${listen};
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_read_timeout 600s;
    proxy_send_timeout 600s;
    location / { proxy_pass http://replicas; }
  }
}
`;
}

async function main(): Promise<void> {
  installExitHandlers();
  const nginx = need('nginx');
  need('redis-server');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capacity-check-'));
  onExit(() => fs.rmSync(work, { recursive: true, force: true }));
  const log = (line: string): void => void process.stderr.write(`[capacity] ${line}\n`);
  const { replicas, videos, smallConnections, slotsPerReplica } = CHECK_RUN;

  const png = makePng(work);
  const video: Fixture = makeSizedVideo(work, path.join(ROOT, 'test', 'fixtures', 'sample.mp4'), CHECK_RUN.videoBytes);
  const servers: ServerProcess[] = [];
  try {
    const redisPort = await freePort();
    servers.push(
      await startServer({
        name: 'redis',
        command: 'redis-server',
        args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        env: {},
        port: redisPort,
        logFile: path.join(work, 'redis.log'),
      }),
    );
    const layout = { project: ROOT, buildDir: __dirname, logDir: work, serverNode: process.execPath };
    const sink = await startSink(layout);
    servers.push(sink);
    const resumableDir = fs.mkdtempSync(path.join(work, 'resumable-'));
    const replicaServers: ServerProcess[] = [];
    for (let index = 0; index < replicas; index += 1) {
      const port = await freePort();
      const replica = await startServer({
        name: `replica-${index}`,
        command: process.execPath,
        args: startCommand(ROOT),
        env: {
          ...PROJECT_ENV,
          PORT: String(port),
          HEYGEN_API: 'v3',
          HEYGEN_API_BASE_URL: `http://127.0.0.1:${sink.port}`,
          UPSTREAM_MODE: 'buffered',
          MAX_CONCURRENT_UPLOADS: String(slotsPerReplica),
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          RESUMABLE_DIR: resumableDir,
          TMPDIR: work,
        },
        port,
        logFile: path.join(work, `replica-${index}.log`),
      });
      replicaServers.push(replica);
      servers.push(replica);
    }
    const listen = await freePort();
    const prefix = path.join(work, 'nginx');
    fs.mkdirSync(prefix);
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), nginxConfig(prefix, listen, replicaServers.map((replica) => replica.port)));
    servers.push(
      await startServer({
        name: 'nginx',
        command: nginx,
        args: ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
        env: {},
        port: listen,
        logFile: path.join(work, 'nginx.log'),
      }),
    );

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = replicaServers.map((replica) => currentRss(replica.pid) ?? 0);
    // Warm every replica (JIT, pools, the first spool file), then measure from here.
    for (let round = 0; round < replicas * 20; round += 1) await upload(listen, png, true);
    for (const replica of replicaServers) resetPeakRss(replica.pid);
    const cpuBefore = replicaServers.map((replica) => cpuSeconds(replica.pid) ?? 0);
    const redisBefore = redisCommands(redisPort);
    log(`${replicas} replicas behind nginx on :${listen}: ${videos} videos of ${CHECK_RUN.videoBytes / MIB} MiB and ${smallConnections} connections of small images`);

    const started = performance.now();
    let videosLeft = videos;
    let small = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    const videoUploads = Array.from({ length: videos }, async () => {
      const result = await upload(listen, video, true);
      if (result.status < 200 || result.status >= 300) {
        failed += 1;
        firstFailure ??= `${result.status} ${result.body.slice(0, 200)}`;
      }
      videosLeft -= 1;
    });
    const smallUploads = Array.from({ length: smallConnections }, async () => {
      while (videosLeft > 0) {
        const result = await upload(listen, png, true);
        if (result.status >= 200 && result.status < 300) small += 1;
        else {
          failed += 1;
          firstFailure ??= `${result.status} ${result.body.slice(0, 200)}`;
        }
      }
    });
    await Promise.all([...videoUploads, ...smallUploads]);
    const seconds = (performance.now() - started) / 1000;
    if (firstFailure !== undefined) log(`${failed} failed, the first: ${firstFailure}`);
    const cpu = replicaServers.reduce((sum, replica, index) => sum + (cpuSeconds(replica.pid) ?? 0) - (cpuBefore[index] ?? 0), 0);
    const peaks = replicaServers.map((replica) => peakRss(replica.pid) ?? 0);
    const redisAfter = redisCommands(redisPort);
    const scripts = redisAfter.scripts - redisBefore.scripts;
    const commands = redisAfter.all - redisBefore.all;

    const uploads = small + videos;
    const mib = (videos * CHECK_RUN.videoBytes + small * png.size) / MIB;
    const modelCpu = (small * REPLICA_FIGURES.cpuMsPerSmallUpload + ((videos * CHECK_RUN.videoBytes) / MIB) * REPLICA_FIGURES.cpuMsPerMib) / 1000;
    const inFlightPerReplica = (videos + smallConnections) / replicas;
    const modelPeakMib = Math.max(REPLICA_FIGURES.idleMib + inFlightPerReplica * REPLICA_FIGURES.mibPerUploadInFlight, REPLICA_FIGURES.smallUploadsPeakMib);
    const modelCommands = uploads * REPLICA_FIGURES.redisCommandsPerUpload;
    const sizing = sizeDeployment(CHECK_RUN.load, REPLICA_FIGURES, CHECK_RUN.pod);
    const toMib = (bytes: number): string => (bytes / MIB).toFixed(1);
    const lines = [
      '# Capacity model: check run',
      '',
      `Generated by \`npm run bench:capacity\` (bench/capacity-check.ts) on ${new Date().toISOString().slice(0, 10)}, node ${process.version},`,
      `${os.cpus().length} cores shared with other work. ${replicas} replicas (v3, buffered, MAX_CONCURRENT_UPLOADS=${slotsPerReplica}, one`,
      `Redis) behind nginx (round robin); ${videos} videos of ${CHECK_RUN.videoBytes / MIB} MiB at once, and ${smallConnections} connections sending`,
      `80 KB images back to back until the videos were through (${seconds.toFixed(1)} s): ${uploads} uploads, ${mib.toFixed(0)} MiB, ${failed} failed.`,
      `The model (bench/capacity-model.ts) sized this deployment for the check load: ${sizing.replicas} replicas.`,
      '',
      '| | model | measured |',
      '|---|---:|---:|',
      `| CPU, all replicas, s | ${modelCpu.toFixed(1)} | ${cpu.toFixed(1)} |`,
      `| peak RSS per replica, ${inFlightPerReplica} uploads in flight each (round robin), MiB | ${modelPeakMib.toFixed(0)} | ${peaks.map(toMib).join(', ')} (idle ${idle.map(toMib).join(', ')}) |`,
      `| Redis round trips (scripts run) | ${modelCommands.toFixed(0)} | ${scripts} |`,
      `| Redis commands, the scripts' own included | — | ${commands} |`,
      '',
    ];
    fs.writeFileSync(path.join(ROOT, 'bench', 'capacity-check.md'), lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const server of servers.reverse()) await stopServer(server);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
