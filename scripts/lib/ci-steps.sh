# shellcheck shell=bash
# Sourced by the scripts CI runs as steps (container-smoke.sh, compose-verify.sh): timestamped
# step and info lines, fail, the verdict a cleanup prints, and podman's settings for this kind of
# machine. Set STEP_TAG (the word in each line) before sourcing.
STARTED=$SECONDS

step() { printf '\n[%s %3ss] == %s\n' "$STEP_TAG" "$((SECONDS - STARTED))" "$*"; }
info() { printf '[%s %3ss]    %s\n' "$STEP_TAG" "$((SECONDS - STARTED))" "$*"; }
fail() {
  printf '[%s %3ss] FAILED: %s\n' "$STEP_TAG" "$((SECONDS - STARTED))" "$*" >&2
  exit 1
}

# The last line of a run, from its exit code.
verdict() {
  if [[ $1 -eq 0 ]]; then
    printf '\n[%s %3ss] PASSED\n' "$STEP_TAG" "$((SECONDS - STARTED))"
  else
    printf '\n[%s %3ss] FAILED (exit %s); cleaned up\n' "$STEP_TAG" "$((SECONDS - STARTED))" "$1" >&2
  fi
}

# Writes a containers.conf to $1 and points podman at it: this sandbox refuses podman's default
# rlimits and has no systemd to manage cgroups.
use_sandbox_podman_conf() {
  export CONTAINERS_CONF="$1"
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = "cgroupfs"\n' >"$CONTAINERS_CONF"
}
