import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHECK_RUN, POD_SETTINGS, REPLICA_FIGURES, STATED_LOAD, sizeDeployment } from '../../bench/capacity-model';
import { REPO_ROOT, readDoc } from './support/markdown';

/**
 * docs/production.md's "Sizing a deployment", the model it describes (bench/capacity-model.ts), the
 * check run it quotes (bench/capacity-check.md) and the requests of k8s/base/deployment.yaml say the
 * same numbers: change a measured figure, the load or a pod setting, and this fails until the page
 * and the manifest follow.
 */
const page = readDoc('docs/production.md');
const section = page.slice(page.indexOf('### Sizing a deployment'));
const sizing = sizeDeployment(STATED_LOAD, REPLICA_FIGURES, POD_SETTINGS);

function yaml(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(path.join(REPO_ROOT, file), 'utf8')).map((doc) => doc.toJS() as Record<string, unknown>);
}
const deployment = yaml('k8s/base/deployment.yaml').find((object) => object.kind === 'Deployment') as {
  spec: { template: { spec: { containers: { name: string; resources: { requests: Record<string, string> } }[] } } };
};
const requests = deployment.spec.template.spec.containers.find((container) => container.name === 'server')!.resources.requests;
const configMap = yaml('k8s/base/configmap.yaml').find((object) => object.kind === 'ConfigMap') as { data: Record<string, string> };

function stated(pattern: RegExp): string[] {
  const match = pattern.exec(section);
  if (match === null) throw new Error(`docs/production.md's "Sizing a deployment" no longer says ${pattern.source}`);
  return match.slice(1);
}

describe('the capacity model (docs/production.md, "Sizing a deployment")', () => {
  it('states the per-replica figures the model uses', () => {
    expect(stated(/([\d.]+) ms of CPU\s+per small upload/)).toEqual([String(REPLICA_FIGURES.cpuMsPerSmallUpload)]);
    expect(stated(/([\d.]+) ms per MiB of a large one/)).toEqual([String(REPLICA_FIGURES.cpuMsPerMib)]);
    expect(stated(/(\d+) MiB idle, ([\d.]+) MiB more per upload in flight, and (\d+) MiB at most/)).toEqual(
      [REPLICA_FIGURES.idleMib, REPLICA_FIGURES.mibPerUploadInFlight, REPLICA_FIGURES.smallUploadsPeakMib].map(String),
    );
    expect(stated(/(\d+) Redis round trips per upload/)).toEqual([String(REPLICA_FIGURES.redisCommandsPerUpload)]);
  });

  it('states the load it sizes for and what the model makes of it', () => {
    expect(stated(/([\d,]+) uploads in flight and (\d+) TB a day, ([\d,]+) images of (\d+) KB and (\d+) videos of\s+(\d+) MiB, the busiest hour at (\d+)×/)).toEqual(
      [
        STATED_LOAD.uploadsInFlight.toLocaleString('en-US'),
        STATED_LOAD.bytesPerDay / 1e12,
        STATED_LOAD.smallUploadsPerDay.toLocaleString('en-US'),
        STATED_LOAD.smallUploadBytes / 1000,
        sizing.videosPerDay,
        STATED_LOAD.videoBytes / 2 ** 20,
        STATED_LOAD.peakFactor,
      ].map(String),
    );
    expect(stated(/\*\*Replicas\*\*: (\d+) at `MAX_CONCURRENT_UPLOADS=(\d+)`/)).toEqual([sizing.replicas, POD_SETTINGS.maxConcurrentUploads].map(String));
    expect(stated(/([\d.]+) cores at the busiest hour in all/)).toEqual([sizing.peakCores.toFixed(2)]);
    expect(stated(/\*\*Spool\*\*: (\d+) MiB per pod/)).toEqual([String(sizing.spoolMib)]);
    expect(stated(/\*\*Resumable storage\*\*: (\d+) GiB shared/)).toEqual([String(sizing.resumableGib)]);
    expect(stated(/\*\*Redis\*\*: (\d+) round trips a second/)).toEqual([String(sizing.peakRedisCommandsPerSecond)]);
  });

  it("gives the deployment's requests, which k8s/base/deployment.yaml makes", () => {
    const cpu = `${sizing.cpuRequestMillicores}m`;
    const memory = `${sizing.memoryRequestMib}Mi`;
    expect(stated(/\*\*Requests per pod\*\*: `cpu: (\w+)`, `memory: (\w+)`/)).toEqual([cpu, memory]);
    expect(requests.cpu).toBe(cpu);
    expect(requests.memory).toBe(memory);
  });

  it('models the pods as k8s/base configures them', () => {
    expect(Number(configMap.data.MAX_CONCURRENT_UPLOADS)).toBe(POD_SETTINGS.maxConcurrentUploads);
    const largest = Math.max(...['MAX_IMAGE_BYTES', 'MAX_VIDEO_BYTES', 'MAX_AUDIO_BYTES'].map((name) => Number(configMap.data[name])));
    expect(largest).toBe(POD_SETTINGS.largestFileBytes);
  });

  it('quotes the check run as bench/capacity-check.md recorded it', () => {
    const check = readDoc('bench/capacity-check.md');
    const row = (label: string): string[] => {
      const line = check.split('\n').find((text) => text.startsWith(`| ${label}`));
      if (line === undefined) throw new Error(`bench/capacity-check.md has no row "${label}"`);
      return line.split('|').slice(2, 4).map((cell) => cell.trim());
    };
    const [cpuModel, cpuMeasured] = row('CPU, all replicas');
    const [roundTripsModel, roundTripsMeasured] = row('Redis round trips');
    const [peakModel, peakMeasured] = row('peak RSS per replica');
    const peaks = [...(peakMeasured ?? '').split('(')[0]!.matchAll(/[\d.]+/g)].map((match) => Number(match[0]));
    expect(stated(/starts (\d+)\s+replicas \((\d+) slots each\)/)).toEqual([CHECK_RUN.replicas, CHECK_RUN.slotsPerReplica].map(String));
    expect(stated(/sends (\d+) videos of (\d+) MiB while (\d+)\s+connections/)).toEqual([CHECK_RUN.videos, CHECK_RUN.videoBytes / 2 ** 20, CHECK_RUN.smallConnections].map(String));
    expect(stated(/round trips: ([\d,]+) predicted, ([\d,]+) counted/)).toEqual([roundTripsModel, roundTripsMeasured].map((n) => Number(n).toLocaleString('en-US')));
    expect(stated(/Peak memory per replica: (\d+) MiB predicted,\s+(\d+) to (\d+) MiB measured/)).toEqual(
      [peakModel, Math.round(Math.min(...peaks)), Math.round(Math.max(...peaks))].map(String),
    );
    expect(stated(/CPU: ([\d.]+) s predicted, ([\d.]+) s measured/)).toEqual([cpuModel, cpuMeasured]);
  });

  it("states the idle figure bench/idle-footprint.md measured for the default configuration", () => {
    const footprint = readDoc('bench/idle-footprint.md');
    const idle = /^\| HEYGEN_API=v3, buffered \(the defaults\) \| ([\d.]+) \|/m.exec(footprint)?.[1];
    expect(idle).toBeDefined();
    const capacity = page.slice(page.indexOf('## Capacity'));
    expect(/The process idles at about\s+(\d+) MB/.exec(capacity)?.[1]).toBe(String(Math.round(Number(idle))));
  });
});
