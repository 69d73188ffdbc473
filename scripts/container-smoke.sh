#!/usr/bin/env bash
# shellcheck disable=SC2016 # awk programs in single quotes are meant to reach awk as they are
# Container smoke test: build the image from the Dockerfile, run it the way Kubernetes runs it
# (read-only root filesystem with a tmpfs at /tmp, no capabilities, no privilege escalation, the
# image's own user), upload real files through it to the stand-in HeyGen upstream, and stop it with
# SIGTERM. Exits non-zero on the first failure; cleans up on every exit path. Traffic goes to
# 127.0.0.1 only.
#
# Engine: a Docker engine when one answers (`docker info`), else buildah + podman (no daemon needed;
# the base image is then a local stand-in built by scripts/build-base-image.sh, since no container
# registry is reachable from CI). Force one with CONTAINER_ENGINE=docker|podman.
#
# Env (all optional):
#   SMOKE_IMAGE        image tag to build and run (default heygen-upload-proxy:test)
#   FIXTURES_DIR       sample.{png,mp4,mp3} (default test/fixtures in this repository)
#   STANDIN_CMD        command that starts the stand-in upstream; it gets `--port N --api-key K` and
#                      prints a line containing "listening" (default: npx tsx src/dev/stand-in-main.ts --api v3)
#   SMOKE_MAX_RSS_MB   fail if the service's peak RSS in the container exceeds this (default 224:
#                      the memory the Deployment requests, k8s/base/deployment.yaml)
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$PWD"
IMAGE="${SMOKE_IMAGE:-heygen-upload-proxy:test}"
FIXTURES_DIR="${FIXTURES_DIR:-$REPO_ROOT/test/fixtures}"
MAX_RSS_MB="${SMOKE_MAX_RSS_MB:-224}"
NAME="heygen-upload-proxy-smoke-$$"
STEP_TAG=smoke
# shellcheck source=scripts/lib/ci-steps.sh
source scripts/lib/ci-steps.sh

WORK="$(mktemp -d /tmp/container-smoke.XXXXXX)"
STANDIN_PID=""
CONTAINER_STARTED=0

cleanup() {
  local rc=$?
  set +e
  if [[ $rc -ne 0 && $CONTAINER_STARTED -eq 1 ]]; then
    echo '--- container logs (last 40 lines) ---' >&2
    engine logs "$NAME" 2>&1 | tail -n 40 >&2
  fi
  if [[ $rc -ne 0 && -s "$WORK/standin.log" ]]; then
    echo '--- stand-in upstream log (last 20 lines) ---' >&2
    tail -n 20 "$WORK/standin.log" >&2
  fi
  [[ $CONTAINER_STARTED -eq 1 ]] && engine rm -f "$NAME" >/dev/null 2>&1
  # The stand-in runs in a process group of its own (setsid below): end that group, nothing else.
  [[ -n "$STANDIN_PID" ]] && kill -- "-$STANDIN_PID" 2>/dev/null
  rm -rf "$WORK"
  verdict "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
step "choosing a container engine"
ENGINE="${CONTAINER_ENGINE:-}"
if [[ -z "$ENGINE" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
case "$ENGINE" in
  docker) ;;
  podman)
    for tool in buildah podman runc; do
      command -v "$tool" >/dev/null || fail "$tool not found: apt-get install -y buildah podman runc debootstrap"
    done
    # This sandbox refuses podman's default rlimits and has no systemd to manage cgroups.
    use_sandbox_podman_conf "$WORK/containers.conf"
    ;;
  *) fail "CONTAINER_ENGINE must be docker or podman, not '$ENGINE'" ;;
esac
engine() {
  if [[ $ENGINE == podman ]]; then podman --runtime runc "$@"; else docker "$@"; fi
}
info "engine: $ENGINE"
for tool in curl node; do command -v "$tool" >/dev/null || fail "$tool not found"; done
for f in sample.png sample.mp4 sample.mp3; do
  [[ -r "$FIXTURES_DIR/$f" ]] || fail "fixture $FIXTURES_DIR/$f missing (set FIXTURES_DIR)"
done

# ---------------------------------------------------------------------------------------------
# Host network settings the npm installs inside the build need. Registry URLs and proxies are not
# secrets and the Dockerfile declares them only in its install stages; a registry token goes in as
# a build secret, which no layer keeps.
BUILD_ARGS=()
for var in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  [[ -n "${!var:-}" ]] && BUILD_ARGS+=(--build-arg "$(tr '[:lower:]' '[:upper:]' <<<"$var")=${!var}")
done
NPM_REGISTRY="$(npm config get registry 2>/dev/null || true)"
if [[ -n "$NPM_REGISTRY" && "$NPM_REGISTRY" != "https://registry.npmjs.org/" ]]; then
  BUILD_ARGS+=(--build-arg "NPM_CONFIG_REGISTRY=$NPM_REGISTRY")
fi
NPM_USERCONFIG="$(npm config get userconfig 2>/dev/null || true)"
if [[ -n "$NPM_USERCONFIG" && -f "$NPM_USERCONFIG" ]] && grep -q -E '_auth(Token)?\s*=' "$NPM_USERCONFIG"; then
  BUILD_ARGS+=(--secret "id=npmrc,src=$NPM_USERCONFIG")
  info "npm credentials from $NPM_USERCONFIG go in as a build secret"
fi

# The image this tag named before, removed once replaced, so repeated runs do not fill the disk.
PREVIOUS_IMAGE_ID="$(engine image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [[ $ENGINE == podman ]]; then
  step "base image (local stand-in for node:24-bookworm-slim; reused when present)"
  scripts/build-base-image.sh
  step "building $IMAGE with buildah"
  # No layer cache: every run builds from the Dockerfile as it is, and leaves no intermediate images.
  buildah bud --isolation chroot --pull=never --format docker \
    ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"} -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
    { tail -n 60 "$WORK/build.log" >&2; fail "image build"; }
else
  step "building $IMAGE with docker"
  docker build ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"} -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
    { tail -n 60 "$WORK/build.log" >&2; fail "image build"; }
fi
if [[ -n "$PREVIOUS_IMAGE_ID" && "$PREVIOUS_IMAGE_ID" != "$(engine image inspect --format '{{.Id}}' "$IMAGE")" ]]; then
  engine rmi "$PREVIOUS_IMAGE_ID" >/dev/null 2>&1 || true
fi
info "built in $((SECONDS - STARTED))s since start; size: $(engine image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

step "checking the image's configuration"
IMAGE_USER="$(engine image inspect --format '{{.Config.User}}' "$IMAGE")"
[[ "$IMAGE_USER" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] ||
  fail "image USER is '$IMAGE_USER'; want a numeric non-root uid so runAsNonRoot can verify it"
info "USER $IMAGE_USER"
engine image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q '/healthz' ||
  fail "image has no HEALTHCHECK on /healthz (build with --format docker)"
info "HEALTHCHECK probes /healthz"
if engine image inspect --format '{{json .Config.Env}}' "$IMAGE" | grep -q -E 'HEYGEN_API_KEY|UPLOAD_TOKEN_SECRET|_authToken'; then
  fail "a secret's name appears in the image's environment"
fi
if engine history --no-trunc --format '{{.CreatedBy}}' "$IMAGE" | grep -q -E 'HEYGEN_API_KEY=|_authToken|_auth='; then
  fail "a secret appears in the image's history"
fi
info "no secret in the image's environment or history"

# ---------------------------------------------------------------------------------------------
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
# Bounded polling: a shell script has no event to wait on for "a server elsewhere is up".
wait_until() { # seconds description command...
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out waiting for $what"
    sleep 0.2
  done
}

step "starting the stand-in HeyGen upstream"
UPSTREAM_PORT="$(free_port)"
SERVICE_PORT="$(free_port)"
# A throwaway key made for this run: a placeholder, never a real one.
API_KEY="smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
if [[ -z "${STANDIN_CMD:-}" ]]; then
  [[ -f src/dev/stand-in-main.ts ]] || fail "src/dev/stand-in-main.ts not found; set STANDIN_CMD to a stand-in upstream"
  # HeyGen's v3 API and its object store (the image's default upstream), on loopback.
  STANDIN_CMD="npx --no-install tsx src/dev/stand-in-main.ts --api v3"
fi
# shellcheck disable=SC2086 # STANDIN_CMD is a command line on purpose
setsid $STANDIN_CMD --port "$UPSTREAM_PORT" --api-key "$API_KEY" >"$WORK/standin.log" 2>&1 &
STANDIN_PID=$!
standin_listening() {
  kill -0 "$STANDIN_PID" 2>/dev/null || fail "the stand-in upstream exited"
  grep -q listening "$WORK/standin.log"
}
wait_until 60 "the stand-in upstream to listen" standin_listening
info "stand-in upstream on 127.0.0.1:$UPSTREAM_PORT"

ORIGIN="https://app.example.com"
step "running $IMAGE as Kubernetes would (read-only root, tmpfs /tmp, no capabilities)"
# shellcheck disable=SC2054 # the commas are tmpfs mount options
RUN_FLAGS=(
  -d --name "$NAME" --network=host
  --read-only --tmpfs /tmp:rw,size=256m,mode=1777
  --cap-drop=ALL --security-opt=no-new-privileges
  -e HEYGEN_API_KEY -e HEYGEN_API=v3 -e "HEYGEN_API_BASE_URL=http://127.0.0.1:$UPSTREAM_PORT"
  -e "PORT=$SERVICE_PORT" -e HOST=127.0.0.1 -e TMPDIR=/tmp
  # As in k8s/base/configmap.yaml; the uploads below come from this origin, as a browser's would.
  -e "ALLOWED_ORIGINS=$ORIGIN"
)
if [[ $ENGINE == podman ]]; then
  RUN_FLAGS+=(--health-interval=disable) # no systemd timers here; the check is run by hand below
else
  RUN_FLAGS+=(--health-interval=1s)
fi
# The key reaches the container from this process's environment, not from its command line.
# podman complains on stderr that it has no systemd for health timers: kept aside, shown on failure.
HEYGEN_API_KEY="$API_KEY" engine run "${RUN_FLAGS[@]}" "$IMAGE" >/dev/null 2>"$WORK/engine.err" ||
  { cat "$WORK/engine.err" >&2; fail "could not start the container"; }
CONTAINER_STARTED=1
BASE_URL="http://127.0.0.1:$SERVICE_PORT"
service_ready() {
  [[ "$(engine inspect --format '{{.State.Running}}' "$NAME")" == true ]] || fail "the container exited"
  curl -fsS -o /dev/null "$BASE_URL/readyz" 2>/dev/null
}
wait_until 60 "GET /readyz to answer 200" service_ready
info "ready on $BASE_URL"

step "checking the service runs as a non-root user, as PID 1"
CONTAINER_UID="$(engine exec "$NAME" id -u)"
[[ "$CONTAINER_UID" != 0 ]] || fail "the container runs as root"
PID1_UIDS="$(engine exec "$NAME" awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/1/status)"
[[ ! " $PID1_UIDS " =~ " 0 " ]] || fail "PID 1 has a root uid: $PID1_UIDS"
PID1_CMD="$(engine exec "$NAME" cat /proc/1/cmdline | tr '\0' ' ')"
[[ "$PID1_CMD" == node\ * ]] || fail "PID 1 is '$PID1_CMD', not node: SIGTERM would not reach the service"
info "uid $CONTAINER_UID; PID 1 is '$PID1_CMD' with uids $PID1_UIDS"

# k8s/base/deployment.yaml's preStop hook runs `sleep` inside this image.
engine exec "$NAME" sleep 0 || fail "the image has no sleep binary for the Deployment's preStop hook"

step "the image's HEALTHCHECK passes"
if [[ $ENGINE == podman ]]; then
  HEALTH="$(engine healthcheck run "$NAME" 2>&1)" || fail "healthcheck: $HEALTH"
  info "healthcheck: ${HEALTH:-healthy}"
else
  docker_healthy() { [[ "$(docker inspect --format '{{.State.Health.Status}}' "$NAME")" == healthy ]]; }
  wait_until 30 "docker to report the container healthy" docker_healthy
  info "healthcheck: healthy"
fi

step "uploading real files through the container to the stand-in upstream"
# A video larger than the spool's in-memory threshold, so buffered mode writes to /tmp (a tmpfs on
# an otherwise read-only root): the sample MP4 plus an 8 MiB ISO-BMFF `free` box, which players skip.
BIG_MP4="$WORK/large.mp4"
{
  cat "$FIXTURES_DIR/sample.mp4"
  printf '\x00\x80\x00\x08free'
  head -c $((8 * 1024 * 1024)) /dev/zero
} >"$BIG_MP4"
upload() { # file content-type
  local status
  status="$(curl -sS -o "$WORK/body.json" -w '%{http_code}' -H "Origin: $ORIGIN" \
    -F "file=@$1;type=$2" "$BASE_URL/v1/asset")" || fail "POST /v1/asset with $(basename "$1"): curl failed"
  [[ "$status" == 201 ]] || fail "POST /v1/asset with $(basename "$1") answered $status: $(head -c 500 "$WORK/body.json")"
  node -e '
    const body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const field of ["id", "file_type", "url"]) {
      if (typeof body[field] !== "string" || body[field] === "") throw new Error("no " + field + " in " + JSON.stringify(body));
    }
  ' "$WORK/body.json" || fail "the 201 body of $(basename "$1") is not an asset record"
  info "$(basename "$1") ($(stat -c %s "$1") bytes) -> 201 $(head -c 200 "$WORK/body.json")"
}
upload "$FIXTURES_DIR/sample.png" image/png
upload "$FIXTURES_DIR/sample.mp3" audio/mpeg
upload "$BIG_MP4" video/mp4
# Above v3's 32 MB multipart cap: a direct upload (create, PUT to the stand-in's object store, complete).
HUGE_MP4="$WORK/direct.mp4"
{
  cat "$FIXTURES_DIR/sample.mp4"
  printf '\x02\x60\x00\x08free'
  head -c $((38 * 1024 * 1024)) /dev/zero
} >"$HUGE_MP4"
upload "$HUGE_MP4" video/mp4

step "peak memory of the service in the container"
PEAK_KB="$(engine exec "$NAME" awk '/^VmHWM:/ {print $2}' /proc/1/status)"
info "peak RSS (VmHWM of PID 1): $((PEAK_KB / 1024)) MiB (limit for this check: $MAX_RSS_MB MiB)"
((PEAK_KB <= MAX_RSS_MB * 1024)) || fail "peak RSS $((PEAK_KB / 1024)) MiB is above $MAX_RSS_MB MiB"

step "no log line carries the API key"
if engine logs "$NAME" 2>&1 | grep -q -F "$API_KEY"; then fail "the API key appears in the container's logs"; fi
info "checked $(engine logs "$NAME" 2>&1 | wc -l) log lines"

step "SIGTERM: the service drains and exits 0"
engine stop --time 40 "$NAME" >/dev/null 2>>"$WORK/engine.err" ||
  { cat "$WORK/engine.err" >&2; fail "could not stop the container"; }
EXIT_CODE="$(engine inspect --format '{{.State.ExitCode}}' "$NAME")"
[[ "$EXIT_CODE" == 0 ]] || fail "the container exited with $EXIT_CODE after SIGTERM, want 0"
info "exited 0"
