import { S3_MIN_PART_BYTES, S3_PART_BYTES } from '../../src/intake/resumable/s3-backing-store';
import { bytesOf, findRendered, renderKustomization } from './support/k8s';
import { configFromConfigMap } from './support/upload-timing';

/**
 * The S3-store variant (k8s/variants/s3-store): the base with resumable uploads in a bucket, for
 * clusters without a ReadWriteMany storage class. Nothing in it may ask for a shared volume.
 */

const APP = 'heygen-upload-proxy';

interface PodSpec {
  serviceAccountName?: string;
  volumes?: { name: string; persistentVolumeClaim?: unknown; emptyDir?: { sizeLimit?: string } }[];
  containers: { name: string; volumeMounts?: { name: string; mountPath: string }[]; env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; optional?: boolean } } }[] }[];
}

const objects = renderKustomization('k8s/variants/s3-store');
const data = (findRendered(objects, 'ConfigMap', APP) as { data: Record<string, string> }).data;
const pod = (findRendered(objects, 'Deployment', APP) as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const server = pod.containers.find((container) => container.name === 'server')!;

describe('S3-store variant (k8s/variants/s3-store)', () => {
  it('asks for no PersistentVolumeClaim and mounts no shared volume', () => {
    expect(objects.filter((object) => object.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect((pod.volumes ?? []).filter((volume) => volume.persistentVolumeClaim !== undefined)).toEqual([]);
    expect((server.volumeMounts ?? []).map((mount) => mount.name)).toEqual(['tmp']);
    expect(JSON.stringify(objects)).not.toContain('ReadWriteMany');
  });

  it('configures RESUMABLE_STORE=s3 with a bucket and no RESUMABLE_DIR, and the service accepts it', () => {
    expect(data.RESUMABLE_STORE).toBe('s3');
    expect(data).not.toHaveProperty('RESUMABLE_DIR');
    const config = configFromConfigMap(data);
    expect(config.resumableStore).toBe('s3');
    expect(config.resumableS3Bucket).toEqual(expect.any(String));
  });

  it('runs as its own ServiceAccount (for IRSA) and takes S3 keys only from an optional Secret, never from the ConfigMap', () => {
    expect(pod.serviceAccountName).toBe(APP);
    expect(findRendered(objects, 'ServiceAccount', APP)).toMatchObject({ automountServiceAccountToken: false });
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(server.env?.find((variable) => variable.name === name)?.valueFrom?.secretKeyRef).toEqual({ name: `${APP}-s3`, key: name, optional: true });
      expect(data).not.toHaveProperty(name);
    }
  });

  it('leaves /tmp room for the parts buffered on their way to S3 (MAX_CONCURRENT_UPLOADS x 13 MiB)', () => {
    const config = configFromConfigMap(data);
    const tmp = pod.volumes!.find((volume) => volume.name === 'tmp')!;
    expect(bytesOf(tmp.emptyDir!.sizeLimit)).toBeGreaterThanOrEqual(config.maxConcurrentUploads * (S3_PART_BYTES + S3_MIN_PART_BYTES));
  });
});
