#!/usr/bin/env bash
# Compose check: bring up the repository's compose.yaml (the proxy and its Redis) with podman-compose,
# wait until /readyz reports Redis as its shared state, upload a sample through the proxy to the
# stand-in HeyGen, replay it under the same Idempotency-Key (the record comes back from Redis), see
# the keys in Redis, and bring the stack down. Cleans up (containers, network, volumes, temp files)
# on every exit path; every wait is bounded.
#
# No container registry is reachable from CI, so compose.yaml's `redis:7` and the proxy's base image
# cannot be pulled: scripts/compose-verify/compose.verify.yaml swaps in local images (the proxy's
# built from the Dockerfile on the local base image of scripts/build-base-image.sh, Redis from
# Debian's redis-server) and adds the stand-in HeyGen as a third container. The rest is compose.yaml's.
#
# Env (all optional):
#   COMPOSE_PROXY_IMAGE   an image of this checkout to use instead of building one (CI passes the
#                         container smoke's, built from the same checkout a minute earlier)
#   FIXTURES_DIR          sample.png (default test/fixtures)
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
FIXTURES_DIR="${FIXTURES_DIR:-$PWD/test/fixtures}"
PROJECT="heygen-compose-verify-$$"
BUILT_PROXY_IMAGE="localhost/heygen-upload-proxy:compose-verify"
REDIS_IMAGE="localhost/heygen-upload-proxy-redis:verify"
NODE_IMAGE="docker.io/library/node:24-bookworm-slim"
STEP_TAG=compose
# shellcheck source=scripts/lib/ci-steps.sh
source scripts/lib/ci-steps.sh

WORK="$(mktemp -d /tmp/compose-verify.XXXXXX)"
STACK_STARTED=0

compose() {
  # Bounded: a podman call that hangs must not hold CI for ever.
  timeout 300 podman-compose -p "$PROJECT" -f compose.yaml -f scripts/compose-verify/compose.verify.yaml "$@"
}

cleanup() {
  local rc=$?
  set +e
  if [[ $STACK_STARTED -eq 1 ]]; then
    if [[ $rc -ne 0 ]]; then
      for service in proxy redis upstream; do
        echo "--- $service logs (last 30 lines) ---" >&2
        podman logs "${PROJECT}_${service}_1" 2>&1 | tail -n 30 >&2
      done
    fi
    compose down -v -t 10 >"$WORK/down.log" 2>&1 || cat "$WORK/down.log" >&2
    # podman-compose 1.0.3's down leaves the project's network; remove it and anything left.
    podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT" | xargs -r podman rm -f >/dev/null 2>&1
    podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT" | xargs -r podman volume rm -f >/dev/null 2>&1
    podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  verdict "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "tools and settings"
for tool in podman podman-compose buildah curl node npx; do
  command -v "$tool" >/dev/null || fail "$tool not found: apt-get install -y podman podman-compose buildah runc debootstrap curl"
done
[[ -r "$FIXTURES_DIR/sample.png" ]] || fail "fixture $FIXTURES_DIR/sample.png missing (set FIXTURES_DIR)"
use_sandbox_podman_conf "$WORK/containers.conf"
# runc, as the container smoke runs it: podman-compose calls podman itself, so the conf says it.
printf 'runtime = "runc"\n' >>"$CONTAINERS_CONF"
info "podman-compose $(podman-compose version 2>/dev/null | sed -n 's/^podman-composer\? version *//p' | head -n 1)"

step "images (local: no registry is reachable)"
scripts/build-base-image.sh
if [[ -n "${COMPOSE_PROXY_IMAGE:-}" ]]; then
  podman image exists "$COMPOSE_PROXY_IMAGE" || fail "COMPOSE_PROXY_IMAGE=$COMPOSE_PROXY_IMAGE does not exist"
  PROXY_IMAGE="$COMPOSE_PROXY_IMAGE"
  info "proxy: $PROXY_IMAGE (given)"
else
  PREVIOUS_IMAGE_ID="$(podman image inspect --format '{{.Id}}' "$BUILT_PROXY_IMAGE" 2>/dev/null || true)"
  buildah bud --isolation chroot --pull=never --format docker -t "$BUILT_PROXY_IMAGE" . >"$WORK/build.log" 2>&1 ||
    { tail -n 60 "$WORK/build.log" >&2; fail "proxy image build"; }
  if [[ -n "$PREVIOUS_IMAGE_ID" && "$PREVIOUS_IMAGE_ID" != "$(podman image inspect --format '{{.Id}}' "$BUILT_PROXY_IMAGE")" ]]; then
    podman rmi "$PREVIOUS_IMAGE_ID" >/dev/null 2>&1 || true
  fi
  PROXY_IMAGE="$BUILT_PROXY_IMAGE"
  info "proxy: $PROXY_IMAGE (built from the Dockerfile)"
fi
if ! podman image exists "$REDIS_IMAGE"; then
  buildah bud --isolation chroot --pull=never --format docker -f scripts/compose-verify/redis.Containerfile \
    -t "$REDIS_IMAGE" scripts/compose-verify >"$WORK/redis-build.log" 2>&1 ||
    { tail -n 30 "$WORK/redis-build.log" >&2; fail "redis image build"; }
fi
info "redis: $REDIS_IMAGE (Debian's redis-server; compose.yaml names redis:7)"
# The stand-in HeyGen as one file for a plain node container (src/dev is not in the proxy's image).
mkdir -p "$WORK/stand-in"
npx --no-install esbuild src/dev/stand-in-main.ts --bundle --platform=node --target=node20 --log-level=warning \
  --outfile="$WORK/stand-in/stand-in.js" || fail "bundling the stand-in upstream"
chmod -R a+rX "$WORK"

step "compose up"
PROXY_PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# A throwaway key made for this run, never a real one; it goes to the containers through compose's
# environment, not a command line of this script.
HEYGEN_API_KEY="verify-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# compose.yaml passes ALLOWED_ORIGINS on from here; the uploads below come from this origin.
ORIGIN="https://app.example.com"
export HEYGEN_API_KEY PROXY_PORT ALLOWED_ORIGINS="$ORIGIN"
export VERIFY_PROXY_IMAGE="$PROXY_IMAGE" VERIFY_REDIS_IMAGE="$REDIS_IMAGE" VERIFY_NODE_IMAGE="$NODE_IMAGE"
export VERIFY_STANDIN_DIR="$WORK/stand-in"
STACK_STARTED=1
compose up -d --no-build >"$WORK/up.log" 2>&1 || { tail -n 40 "$WORK/up.log" >&2; fail "compose up"; }
BASE_URL="http://127.0.0.1:$PROXY_PORT"

# Bounded polling: a shell script has no event to wait on for "a server in a container is ready".
deadline=$((SECONDS + 90))
until curl -fsS -o "$WORK/ready.json" "$BASE_URL/readyz" 2>/dev/null &&
  node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1])).checks.shared_state === "redis" ? 0 : 1)' "$WORK/ready.json"; do
  ((SECONDS < deadline)) || fail "timed out waiting for /readyz to report shared_state redis (last: $(cat "$WORK/ready.json" 2>/dev/null))"
  sleep 0.5
done
info "ready on $BASE_URL: $(cat "$WORK/ready.json")"

step "an upload through the proxy to the stand-in HeyGen, and its replay from Redis"
KEY="compose-verify-$$"
upload() { # output-prefix
  curl -sS -o "$WORK/$1.json" -D "$WORK/$1.headers" -w '%{http_code}' -H "Origin: $ORIGIN" -H "Idempotency-Key: $KEY" \
    -F "file=@$FIXTURES_DIR/sample.png;type=image/png" "$BASE_URL/v1/asset"
}
FIRST_STATUS="$(upload first)" || fail "POST /v1/asset: curl failed"
[[ "$FIRST_STATUS" == 201 ]] || fail "POST /v1/asset answered $FIRST_STATUS: $(head -c 500 "$WORK/first.json")"
ASSET_ID="$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));if(!r.id||!r.url)throw new Error("not a record: "+JSON.stringify(r));console.log(r.id)' "$WORK/first.json")" ||
  fail "the 201 body is not an asset record"
info "sample.png -> 201, asset $ASSET_ID"
SECOND_STATUS="$(upload second)" || fail "the replayed POST: curl failed"
SECOND_ID="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).id)' "$WORK/second.json")"
grep -qi '^idempotent-replayed: *true' "$WORK/second.headers" ||
  fail "the same Idempotency-Key was not replayed (HTTP $SECOND_STATUS, id $SECOND_ID)"
[[ "$SECOND_ID" == "$ASSET_ID" ]] || fail "the replay answered asset $SECOND_ID, not $ASSET_ID"
info "same key again -> $SECOND_STATUS, Idempotent-Replayed, asset $SECOND_ID"
KEYS="$(podman exec "${PROJECT}_redis_1" redis-cli DBSIZE)" || fail "redis-cli in the redis container"
((KEYS > 0)) || fail "Redis holds no keys after the uploads: the proxy's state is not shared there"
info "Redis holds $KEYS keys"

step "no log line carries the API key"
if podman logs "${PROJECT}_proxy_1" 2>&1 | grep -q -F "$HEYGEN_API_KEY"; then fail "the API key appears in the proxy's logs"; fi
info "checked $(podman logs "${PROJECT}_proxy_1" 2>&1 | wc -l) log lines"

step "compose down"
compose down -v -t 40 >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; fail "compose down"; }
[[ -z "$(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT")" ]] || fail "containers left after down"
info "down; the cleanup removes the network"
