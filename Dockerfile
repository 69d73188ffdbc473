# heygen-upload-proxy: build with dev dependencies, run with production dependencies only.
#
#   docker build -t heygen-upload-proxy .
#   docker run -e HEYGEN_API_KEY=... -p 3000:3000 heygen-upload-proxy
#
# No secret is an input of this build: the API key arrives at run time as an environment variable.
# Network settings some build hosts need (a proxy, a registry mirror) are build args, which only the
# two install stages declare, so none of them reaches the runtime image's config or history. A
# registry token, where one is needed, is mounted for one RUN only:
#   docker build --secret id=npmrc,src=$HOME/.npmrc ...

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
COPY package.json package-lock.json ./

FROM base AS build
ARG NPM_CONFIG_REGISTRY
ARG HTTP_PROXY
ARG HTTPS_PROXY
ARG NO_PROXY
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The stand-in upstream under src/dev is for tests and local development only.
RUN npm run build && rm -rf dist/dev

FROM base AS prod-deps
ARG NPM_CONFIG_REGISTRY
ARG HTTP_PROXY
ARG HTTPS_PROXY
ARG NO_PROXY
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /app
# Everything under /app stays owned by root: the service user can read its code but not change it.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The MIT licence asks that its notice travel with every copy; the image is one.
COPY package.json LICENSE ./
# Numeric uid of the base image's `node` user, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# Slim images have no curl; node is there anyway. 127.0.0.1 because HOST is unset in the image
# (the service listens on every address).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const r=require('http').get({host:'127.0.0.1',port:process.env.PORT||3000,path:'/healthz',timeout:4000},s=>process.exit(s.statusCode===200?0:1));r.on('error',()=>process.exit(1));r.on('timeout',()=>r.destroy())"]
# Exec form: node is PID 1 and receives SIGTERM itself; the service drains uploads and exits 0.
# The same command as `npm start` (a test keeps them equal); the README says why each flag is there.
CMD ["node", "--initial-old-space-size=64", "--max-semi-space-size=16", "dist/server.js"]
