#!/usr/bin/env bats
# Scenarios on a real Kubernetes control plane, typed as a user would type
# them with the real kubectl. `tests/cluster/run` (make cluster-tests)
# starts the control plane and policy-server; policy-server sees the host
# at 192.168.65.254 (host.docker.internal, as on Docker Desktop) until a
# scenario moves it.

HOST=192.168.65.254

setup() {
  cd "$BATS_TEST_DIRNAME/manifests"
}

fail() {
  echo "$1" >&2
  return 1
}

# Scenarios that move the host or stop policy-server need the local plane.
local_only() {
  [ "${CLUSTER_MODE:-}" = local ] || skip "needs the control plane of make cluster-tests"
}

# host_at ADDRESS: policy-server now finds host.docker.internal there
# (ADDRESS empty: nowhere). The file is rewritten in place: it is the one
# bind-mounted into policy-server's mount namespace.
host_at() {
  if [ -n "$1" ]; then
    printf '127.0.0.1 localhost\n%s host.docker.internal\n' "$1" >"$CLUSTER_STATE/hosts"
  else
    printf '127.0.0.1 localhost\n' >"$CLUSTER_STATE/hosts"
  fi
}

# aliases KIND/NAME [JSONPATH-TO-POD-SPEC]: the object's hostAliases, compact.
aliases() {
  kubectl get "$1" -o json | jq -c "${2:-.spec}.hostAliases"
}

# eventually SECONDS COMMAND...: until COMMAND succeeds.
eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

@test "a bare Pod's host-gateway becomes the host's address; its other entries stay" {
  run kubectl apply -f pod.yaml
  [ "$status" -eq 0 ]
  [ "$(aliases pod/web)" = '[{"hostnames":["static.local"],"ip":"10.0.0.7"},{"hostnames":["db.local","cache.local"],"ip":"192.168.65.254"}]' ]
}
