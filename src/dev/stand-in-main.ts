import { parseArgs } from 'node:util';
import { startStandInHeygen } from './stand-in-heygen';
import { startStandInHeygenV3 } from './stand-in-heygen-v3';

/**
 * The stand-in upstream on its own, for the container smoke test and the benchmarks:
 * `tsx src/dev/stand-in-main.ts --port 4010 --api-key KEY [--api v3|v1] [--storage-port N]`.
 * Prints one line with "listening" when ready: for v3 (the default) the API's base URL, which the
 * adapter builds /v3/... on, and the object store's; for v1 the same line as before v3 existed,
 * with the full /v1/asset URL.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      api: { type: 'string', default: 'v3' },
      // v3 only: the object store's port; 0 picks a free one.
      'storage-port': { type: 'string', default: '0' },
    },
  });
  const apiKey = values['api-key'];
  if (!apiKey) throw new Error('--api-key is required');
  if (values.api !== 'v3' && values.api !== 'v1') throw new Error('--api must be v3 or v1');
  let close: () => Promise<void>;
  if (values.api === 'v1') {
    const standIn = await startStandInHeygen({ apiKey, port: Number(values.port), host: values.host });
    process.stdout.write(`stand-in HeyGen upstream listening on ${standIn.url}\n`);
    close = () => standIn.close();
  } else {
    const standIn = await startStandInHeygenV3({ apiKey, port: Number(values.port), host: values.host, storagePort: Number(values['storage-port']) });
    process.stdout.write(`stand-in HeyGen v3 API listening on ${standIn.url} (object store ${standIn.storageUrl})\n`);
    close = () => standIn.close();
  }
  const stop = (): void => {
    void close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`stand-in failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
