/**
 * The rooms of the house (the layers of docs/architecture.md) and which way their arrows may point
 * ("The rules" there), checked by `npm run lint`. Top to bottom: server.ts → app.ts →
 * dependencies.ts → http/ → intake/ → upload/ → heygen/ → state/ → ops/ → the ground floor
 * (config.ts, allowed-origin.ts, errors.ts, request-context.ts, secret.ts, listen.ts, with-timeout.ts).
 * A room may import rooms below it, never above; dev/ may import anything, nothing imports dev/.
 */
const ORDER = ['server', 'app', 'dependencies', 'http', 'intake', 'upload', 'heygen', 'state', 'ops'];
const room = {
  server: '^src/server\\.ts$',
  app: '^src/app\\.ts$',
  dependencies: '^src/dependencies\\.ts$',
  http: '^src/http/',
  intake: '^src/intake/',
  upload: '^src/upload/',
  heygen: '^src/heygen/',
  state: '^src/state/',
  ops: '^src/ops/',
};
const groundFloor = '^src/[^/]+\\.ts$';
const groundFloorFiles = '^src/(config|allowed-origin|errors|request-context|secret|listen|with-timeout)\\.ts$';

const upward = ORDER.slice(1).map((name, index) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} sits below ${ORDER.slice(0, index + 1).join(', ')}: arrows point down only`,
  severity: 'error',
  from: { path: room[name] },
  to: { path: ORDER.slice(0, index + 1).map((above) => room[above]) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'ground-floor-imports-no-room',
      comment: 'config, errors, request-context, secret, listen and with-timeout are used by every room and use none',
      severity: 'error',
      from: { path: groundFloorFiles },
      to: { path: '^src/', pathNot: groundFloor },
    },
    {
      name: 'core-and-upstream-know-no-transport',
      comment: 'upload/ and heygen/ know nothing of Express, multer or tus (docs/architecture.md: the rules)',
      severity: 'error',
      from: { path: ['^src/upload/', '^src/heygen/'] },
      to: { path: ['node_modules/(express|multer|busboy|cors|helmet|express-rate-limit|@tus)/', '^src/request-context\\.ts$'] },
    },
    {
      name: 'upstream-knows-no-core',
      comment: 'heygen/ takes an UpstreamUpload and needs nothing of how it was checked',
      severity: 'error',
      from: { path: '^src/heygen/' },
      to: { path: ['^src/upload/', '^src/intake/'] },
    },
    {
      name: 'shared-state-serves-the-edge-and-intakes',
      comment:
        'state/ (one Redis connection, one lease, one fallback policy) is used by http/, intake/ and dependencies.ts; the core and the upstream adapters keep no shared state',
      severity: 'error',
      from: { path: ['^src/upload/', '^src/heygen/'] },
      to: { path: '^src/state/' },
    },
    {
      name: 'production-never-imports-dev',
      comment: 'dev/ is the stand-in HeyGen and npm run dev; no production code may depend on it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/dev/' },
      to: { path: '^src/dev/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', 'node_modules/'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
