import { parseArgs } from 'node:util';
import { startStandInHeygen } from './stand-in-heygen';

/**
 * The stand-in upstream on its own, for the container smoke test and the benchmarks:
 * `tsx src/dev/stand-in-main.ts --port 4010 --api-key KEY`. Prints one line with "listening" when ready.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
    },
  });
  const apiKey = values['api-key'];
  if (!apiKey) throw new Error('--api-key is required');
  const standIn = await startStandInHeygen({ apiKey, port: Number(values.port), host: values.host });
  process.stdout.write(`stand-in HeyGen upstream listening on ${standIn.url}\n`);
  const stop = (): void => {
    void standIn.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`stand-in failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
