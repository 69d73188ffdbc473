/**
 * The harness stops servers with SIGTERM. Exiting normally on it (instead of being killed by it)
 * lets `node --cpu-prof` write the profile when the run profiles (`npm run bench -- --profile`).
 */
process.once('SIGTERM', () => process.exit(0));
