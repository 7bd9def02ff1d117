#!/usr/bin/env bats
# End-to-end tests with kwctl, the Kubewarden CLI, on the annotated policy
# (`make e2e-tests`). DNS answers are replayed from test_data/sessions/.

setup() {
  if ! command -v kwctl >/dev/null 2>&1; then
    skip "kwctl is not installed (https://github.com/kubewarden/kwctl/releases); the artifact tests in 'make test' cover the same ground"
  fi
}

# query FILTER SESSION REQUEST [SETTINGS_JSON]: the jq FILTER applied to the
# AdmissionResponse of kwctl run, with DNS replayed from SESSION.
query() {
  local filter=$1 session=$2 request=$3 settings=${4:-}
  kwctl run \
    --replay-host-capabilities-interactions "test_data/sessions/$session" \
    --request-path "test_data/$request" \
    --settings-json "${settings:-"{}"}" \
    annotated-policy.wasm 2>/dev/null | jq -er "$filter"
}

@test "a Pod's host-gateway becomes host.docker.internal's IPv4 address" {
  run query '.allowed, (.patch | @base64d)' docker_desktop.yml pod_host_gateway.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = '[{"op":"replace","path":"/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "a Deployment's pod template is rewritten" {
  run query '.patch | @base64d' docker_desktop.yml deployment_host_gateway.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"replace","path":"/spec/template/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "a CronJob's job template is rewritten" {
  run query '.patch | @base64d' docker_desktop.yml cronjob_host_gateway.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "ipFamilies IPv4 and IPv6 give one entry per family, in that order" {
  run query '.patch | @base64d | fromjson | map(if (.value | type) == "object" then .value.ip else .value end) | join(" ")' docker_desktop.yml pod_host_gateway.json '{"ipFamilies":["IPv4","IPv6"]}'
  [ "$status" -eq 0 ]
  [ "$output" = "192.168.65.254 fdc4:f303:9324::254" ]
}

@test "the next host name is tried when the first does not resolve" {
  run query '.patch | @base64d | fromjson | .[0].value' k3d.yml pod_host_gateway.json '{"hostnames":["host.docker.internal","host.k3d.internal"]}'
  [ "$status" -eq 0 ]
  [ "$output" = "172.19.0.1" ]
}

@test "fallbackAddresses are used, with a warning, when no name resolves" {
  run query '(.patch | @base64d | fromjson | .[0].value), .warnings[0]' nothing_resolves.yml pod_host_gateway.json '{"fallbackAddresses":["172.18.0.1"]}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "172.18.0.1" ]
  [ "${lines[1]}" = "host-gateway: no IPv4 address for host.docker.internal (Name does not resolve); used fallbackAddresses 172.18.0.1" ]
}

@test "rejects with one sentence when nothing resolves and there is no fallback" {
  run query '.allowed, .status.message' nothing_resolves.yml pod_host_gateway.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal (Name does not resolve); make one of these names resolvable from the policy server or set fallbackAddresses" ]
}

@test "a Pod without host-gateway is accepted unchanged, with no lookup" {
  run query '.allowed, (.patch // "no patch")' no_lookups.yml pod_without_host_aliases.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = "no patch" ]
}

@test "invalid settings are refused, naming the setting" {
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"ipFamilies":["IPv5"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`ipFamilies` entry "IPv5" is not IPv4 or IPv6'* ]]
}
