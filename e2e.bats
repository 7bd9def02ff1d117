#!/usr/bin/env bats
# End-to-end tests with kwctl, the Kubewarden CLI, on the annotated policy
# (`make e2e-tests`). DNS answers are replayed from test_data/sessions/.

setup() {
  if ! command -v kwctl >/dev/null 2>&1; then
    # CI, where the real binaries are at hand, must run every test.
    [ -z "${HOST_GATEWAY_REQUIRE_KUBEWARDEN:-}" ] || fail "kwctl is not on PATH"
    skip "kwctl is not installed: see https://docs.kubewarden.io/howtos/install-kwctl"
  fi
}

fail() {
  echo "$1" >&2
  return 1
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

# address_and_warning SESSION [SETTINGS_JSON]: the first address the patch
# writes into the sample Pod, then the first warning.
address_and_warning() {
  query '(.patch | @base64d | fromjson | .[0].value), .warnings[0]' "$1" pod_host_gateway.json "${2:-}"
}

@test "a Pod's host-gateway becomes host.docker.internal's IPv4 address" {
  run query '.allowed, (.patch | @base64d)' docker_desktop.yml pod_host_gateway.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = '[{"op":"replace","path":"/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "a Deployment's pod template is rewritten, and carries the names in its annotation" {
  run query '.patch | @base64d' docker_desktop.yml deployment_host_gateway.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"add","path":"/spec/template/metadata/annotations","value":{"host-gateway.kubewarden.io/hostnames":"db.local,cache.local"}},{"op":"replace","path":"/spec/template/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "a CronJob's job template is rewritten" {
  run query '.patch | @base64d' docker_desktop.yml cronjob_host_gateway.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"add","path":"/spec/jobTemplate/spec/template/metadata/annotations","value":{"host-gateway.kubewarden.io/hostnames":"db.local,cache.local"}},{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/hostAliases/1/ip","value":"192.168.65.254"}]' ]
}

@test "ipFamilies IPv4 and IPv6 give one entry per family, in that order" {
  run query '.patch | @base64d | fromjson | map(if (.value | type) == "object" then .value.ip else .value end) | join(" ")' docker_desktop.yml pod_host_gateway.json '{"ipFamilies":["IPv4","IPv6"]}'
  [ "$status" -eq 0 ]
  [ "$output" = "192.168.65.254 fdc4:f303:9324::254" ]
}

@test "both families come from the first name that answers; a family it lacks is left out" {
  run query '.patch | @base64d | fromjson | map(if (.value | type) == "object" then .value.ip else .value end) | join(" ")' ipv4_first_ipv6_later.yml pod_host_gateway.json '{"hostnames":["host.docker.internal","host.k3d.internal"],"ipFamilies":["IPv4","IPv6"]}'
  [ "$status" -eq 0 ] || fail "$output"
  [ "$output" = "192.168.65.254" ]
}

@test "the next host name is tried when the first does not resolve" {
  run query '.patch | @base64d | fromjson | .[0].value' k3d.yml pod_host_gateway.json '{"hostnames":["host.docker.internal","host.k3d.internal"]}'
  [ "$status" -eq 0 ]
  [ "$output" = "172.19.0.1" ]
}

@test "an answer that cannot reach the host is skipped, with a warning, and the chain goes on" {
  run address_and_warning sinkhole_first.yml '{"hostnames":["host.docker.internal","host.k3d.internal"]}'
  [ "$status" -eq 0 ] || fail "$output"
  [ "${lines[0]}" = "172.19.0.1" ]
  [ "${lines[1]}" = "host-gateway: host.docker.internal (skipped 0.0.0.0, an unspecified address); used 172.19.0.1 from host.k3d.internal" ]
}

@test "a name that failed for now is passed over, and the warning names both" {
  run address_and_warning k3d_offline.yml
  [ "$status" -eq 0 ] || fail "$output"
  [ "${lines[0]}" = "172.19.0.1" ]
  [ "${lines[1]}" = "host-gateway: host.docker.internal, host.lima.internal, host.containers.internal (failed for now: Try again); used 172.19.0.1 from host.k3d.internal" ]
}

@test "with every lookup failing for now, the rejection says a retry may help" {
  run query '.allowed, .status.message' dns_down.yml pod_host_gateway.json
  [ "$status" -eq 0 ] || fail "$output"
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (failed for now: Try again); retry, or make one of these names resolvable from the policy server or set fallbackAddresses" ]
}

@test "with every lookup failing for now, the fallback's warning says so" {
  run address_and_warning dns_down.yml '{"fallbackAddresses":["172.18.0.1"]}'
  [ "$status" -eq 0 ] || fail "$output"
  [ "${lines[0]}" = "172.18.0.1" ]
  [ "${lines[1]}" = "host-gateway: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (failed for now: Try again); used fallback 172.18.0.1" ]
}

@test "fallbackAddresses are used, with a warning, when no name resolves" {
  run address_and_warning nothing_resolves.yml '{"fallbackAddresses":["172.18.0.1"]}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "172.18.0.1" ]
  [ "${lines[1]}" = "host-gateway: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve); used fallback 172.18.0.1" ]
}

@test "rejects with one sentence when nothing resolves and there is no fallback" {
  run query '.allowed, .status.message' nothing_resolves.yml pod_host_gateway.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve); make one of these names resolvable from the policy server or set fallbackAddresses" ]
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

@test "two host-gateway entries with one address become one entry" {
  run query '.patch | @base64d' docker_desktop.yml pod_two_host_gateway_entries.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"add","path":"/spec/hostAliases/0/hostnames/1","value":"b.local"},{"op":"replace","path":"/spec/hostAliases/0/ip","value":"192.168.65.254"},{"op":"remove","path":"/spec/hostAliases/1"}]' ]
}

@test "a re-applied Deployment comes back as stored: no template change, no rollout" {
  run query '.patch | @base64d' docker_desktop.yml deployment_reapplied.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"remove","path":"/spec/template/spec/hostAliases/2"}]' ]
}

@test "a hostname added to the manifest joins the stored entry and the annotation" {
  run query '.patch | @base64d' docker_desktop.yml deployment_reapplied_hostname_added.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"replace","path":"/spec/template/metadata/annotations/host-gateway.kubewarden.io~1hostnames","value":"db.local,cache.local,api.local"},{"op":"add","path":"/spec/template/spec/hostAliases/1/hostnames/2","value":"api.local"},{"op":"remove","path":"/spec/template/spec/hostAliases/2"}]' ]
}

@test "a re-applied Pod comes back as stored" {
  run query '.patch | @base64d' docker_desktop.yml pod_reapplied.json
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"remove","path":"/spec/hostAliases/2"}]' ]
}

# A Pod's spec and a Job's template cannot change once created: an UPDATE
# looks nothing up (no_lookups.yml fails the run on any lookup) and keeps
# the stored addresses, wherever the host is now.
@test "a re-applied Pod keeps its stored address after the host moved, or with DNS down" {
  stored_whatever_dns pod_reapplied.json '[{"op":"remove","path":"/spec/hostAliases/2"}]'
}

# stored_whatever_dns REQUEST PATCH: REQUEST is admitted with PATCH whether
# nothing is looked up, the host moved, or no name resolves.
stored_whatever_dns() {
  for session in no_lookups.yml docker_desktop_new_address.yml nothing_resolves.yml; do
    run query '.allowed, (.patch | @base64d)' "$session" "$1"
    [ "$status" -eq 0 ] || fail "$session: $output"
    [ "${lines[0]}" = true ] || fail "$session: $output"
    [ "${lines[1]}" = "$2" ] || fail "$session: $output"
  done
}

# A template that an UPDATE leaves alone, hostAliases and the intent
# annotation aside, keeps its stored addresses: a changed template would
# roll the workload out.
@test "a re-applied Deployment keeps its stored address after the host moved, or with DNS down" {
  stored_whatever_dns deployment_reapplied.json '[{"op":"remove","path":"/spec/template/spec/hostAliases/2"}]'
}

@test "a labelled Deployment is admitted unchanged after the host moved: no lookup, no rollout" {
  unchanged_whatever_dns deployment_labelled.json
}

# unchanged_whatever_dns REQUEST: REQUEST is admitted with no patch and no
# warning, with nothing looked up and after the host moved.
unchanged_whatever_dns() {
  for session in no_lookups.yml docker_desktop_new_address.yml; do
    run query '.allowed, .patch, .warnings' "$session" "$1"
    [ "$status" -eq 1 ] || fail "$session: $output" # jq -e: the last is null
    [ "$output" = "$(printf 'true\nnull\nnull')" ] || fail "$session: $output"
  done
}

# The user's edit wins: a name the stored template held at an address and
# this UPDATE gives another leaves the intent annotation, so new Pods keep
# the edit. Nothing is looked up.
@test "kubectl edit gives db.local an address of the user's: it leaves the annotation" {
  run query '.patch | @base64d' no_lookups.yml deployment_edited_to_literal.json
  [ "$status" -eq 0 ] || fail "$output"
  [ "$output" = '[{"op":"replace","path":"/spec/template/metadata/annotations/host-gateway.kubewarden.io~1hostnames","value":"cache.local"}]' ]
}

@test "a labelled Job is admitted unchanged after the host moved" {
  unchanged_whatever_dns job_labelled.json
}

# live SETTINGS_JSON: the AdmissionResponse of the sample Pod with real DNS,
# through this machine's resolver: localhost, in every /etc/hosts, answers a
# loopback address; .invalid never resolves (RFC 6761).
live() {
  kwctl run --request-path test_data/pod_host_gateway.json --settings-json "$1" \
    annotated-policy.wasm 2>/dev/null
}

@test "real DNS: localhost's loopback answer is skipped, saying why" {
  run bash -c "$(declare -f live); live '{\"hostnames\":[\"no-such-host.invalid\",\"localhost\"],\"fallbackAddresses\":[\"10.0.2.2\"]}' | jq -er '(.patch | @base64d), .warnings[0]'"
  [ "$status" -eq 0 ] || fail "$output"
  [ "${lines[0]}" = '[{"op":"replace","path":"/spec/hostAliases/1/ip","value":"10.0.2.2"}]' ]
  [[ "${lines[1]}" =~ ^"host-gateway: no IPv4 address for no-such-host.invalid ("(Name or service not known|Name does not resolve)"), localhost (skipped 127.0.0.1, a loopback address); used fallback 10.0.2.2"$ ]]
}

@test "real DNS: a name that never resolves is rejected in the resolver's words" {
  run bash -c "$(declare -f live); live '{\"hostnames\":[\"no-such-host.invalid\",\"also-missing.invalid\"]}' | jq -er '.allowed, .status.message'"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [[ "${lines[1]}" =~ ^"cannot replace host-gateway in hostAliases: no IPv4 address for no-such-host.invalid, also-missing.invalid ("(Name or service not known|Name does not resolve)"); make one of these names resolvable from the policy server or set fallbackAddresses"$ ]]
}

@test "a refused DNS capability says how to grant it" {
  run bash -c "kwctl run --allowed-host-capabilities 'oci/*' --request-path test_data/pod_host_gateway.json annotated-policy.wasm 2>/dev/null | jq -er '.allowed, .status.message'"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "cannot replace host-gateway in hostAliases: this policy is not granted the net/v1/dns_lookup_host host capability; add it to the PolicyServer's spec.namespacedPoliciesCapabilities or set fallbackAddresses" ]
}

@test "unusable fallback addresses are refused, naming the setting" {
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"fallbackAddresses":["127.0.0.1"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`fallbackAddresses` entry "127.0.0.1" is a loopback address, which cannot reach the host from a pod'* ]]
}

@test "an address where a host name belongs is refused, naming the setting" {
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"hostnames":["127.0.0.1"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`hostnames` item "127.0.0.1" is an address, where a host name belongs; put addresses in `fallbackAddresses`'* ]]
}

@test "a refused item is quoted as it was written: a leading non-breaking space, a newline" {
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json "{\"injectHostnames\":[\"$(printf '\302\240')host.docker.internal\"]}" annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`injectHostnames` entry "\u{a0}host.docker.internal" is not a valid DNS name'* ]] || fail "$output"
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"hostnames":["host.docker.internal\n"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`hostnames` entry "host.docker.internal\n" is not a valid DNS name'* ]] || fail "$output"
}

@test "settings the API server would make fail are refused when they load, naming the item" {
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"injectHostnames":["Host.Docker.Internal"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`injectHostnames` entry "Host.Docker.Internal" is not a valid DNS-1123 subdomain, which Kubernetes requires of hostAliases hostnames'* ]] || fail "$output"
  run kwctl run --request-path test_data/pod_host_gateway.json --settings-json '{"fallbackAddresses":["fd00::1"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`fallbackAddresses` entry "fd00::1" is IPv6, which `ipFamilies` does not list; add IPv6 to `ipFamilies` or remove the entry'* ]] || fail "$output"
}

@test "default settings on every local platform: the first name that answers gives the address" {
  for case in \
    "docker_desktop.yml 192.168.65.254 host.docker.internal" \
    "orbstack.yml 0.250.250.254 host.docker.internal" \
    "rancher_desktop.yml 192.168.5.2 host.docker.internal" \
    "colima.yml 192.168.5.2 host.docker.internal" \
    "podman_machine.yml 192.168.127.254 host.docker.internal" \
    "lima.yml 192.168.5.2 host.lima.internal" \
    "k3d_linux.yml 172.18.0.1 host.k3d.internal" \
    "minikube_linux.yml 192.168.49.1 host.minikube.internal"; do
    read -r session address name <<<"$case"
    # Replay is strict: each lookup must be the session's next one, in the
    # default order, or kwctl fails.
    run kwctl run --replay-host-capabilities-interactions "test_data/sessions/$session" \
      --request-path test_data/pod_host_gateway.json annotated-policy.wasm
    [ "$status" -eq 0 ] || { echo "$session: $output"; return 1; }
    patch=$(jq -er '.patch | @base64d | fromjson | .[0].value' <<<"$(grep '^{"uid"' <<<"$output")")
    [ "$patch" = "$address" ] || { echo "$session: $patch"; return 1; }
    # The log line names the name that answered; no warning.
    [[ "$output" == *"host-gateway -> $address ($name)"* ]] || { echo "$session: $output"; return 1; }
    [[ "$output" == *'"warnings":null'* ]] || { echo "$session: $output"; return 1; }
  done
}

# 169.254.1.2: Podman 5.3 and later with pasta; 0.250.250.254: OrbStack.
@test "kind on Linux, kind on Podman, microk8s, pasta, OrbStack: no name answers, fallbackAddresses does" {
  for address in 172.18.0.1 10.89.0.1 10.0.1.1 169.254.1.2 0.250.250.254; do
    run query '(.patch | @base64d | fromjson | .[0].value), .warnings[0]' nothing_resolves.yml pod_host_gateway.json "{\"fallbackAddresses\":[\"$address\"]}"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$address" ]
    [[ "${lines[1]}" == *"used fallback $address" ]]
  done
}

@test "make run's host answers exactly as kwctl run does" {
  for case in \
    "docker_desktop.yml pod_host_gateway.json {}" \
    "docker_desktop.yml pod_two_host_gateway_entries.json {\"ipFamilies\":[\"IPv6\",\"IPv4\"]}" \
    "docker_desktop.yml deployment_reapplied.json {}" \
    "k3d.yml cronjob_host_gateway.json {\"hostnames\":[\"host.docker.internal\",\"host.k3d.internal\"]}" \
    "nothing_resolves.yml job_host_gateway.json {\"fallbackAddresses\":[\"172.18.0.1\"]}" \
    "nothing_resolves.yml pod_host_gateway.json {}"; do
    read -r session request settings <<<"$case"
    args=(--replay-host-capabilities-interactions "test_data/sessions/$session"
      --request-path "test_data/$request" --settings-json "$settings")
    expected=$(kwctl run "${args[@]}" annotated-policy.wasm 2>/dev/null)
    actual=$(cargo run --locked --quiet --example run -- "${args[@]}" policy.wasm | head -n1)
    [ -n "$expected" ]
    [ "$actual" = "$expected" ] || { echo "$case: $actual != $expected"; return 1; }
  done
}

@test "artifacthub-pkg.yml is what kwctl scaffold artifacthub writes" {
  kwctl scaffold artifacthub -m metadata.yml -q questions-ui.yml -o "$BATS_TEST_TMPDIR/artifacthub-pkg.yml"
  diff <(grep -v '^createdAt:' artifacthub-pkg.yml) <(grep -v '^createdAt:' "$BATS_TEST_TMPDIR/artifacthub-pkg.yml")
}

@test "injectHostnames: a plain new pod gains host.docker.internal" {
  run query '.patch | @base64d' docker_desktop.yml pod_without_host_aliases.json '{"injectHostnames":["host.docker.internal"]}'
  [ "$status" -eq 0 ]
  [ "$output" = '[{"op":"add","path":"/spec/hostAliases","value":[{"hostnames":["host.docker.internal"],"ip":"192.168.65.254"}]}]' ]
}

@test "injectHostnames: a pod that opts out is left alone, with no lookup" {
  run query '.allowed, (.patch // "no patch")' no_lookups.yml pod_inject_opted_out.json '{"injectHostnames":["host.docker.internal"]}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = "no patch" ]
}

# A kubelet runs a static pod from its manifest, never from the mirror pod
# it shows in the API (annotation kubernetes.io/config.mirror).
@test "injectHostnames: a kubelet's mirror pod is left alone, with no lookup" {
  for session in docker_desktop.yml no_lookups.yml; do
    run query '.allowed, (.patch // "no patch"), .warnings' "$session" pod_mirror.json '{"injectHostnames":["host.docker.internal"]}'
    [ "$status" -eq 1 ] || fail "$session: $output" # jq -e: the last is null
    [ "$output" = "$(printf 'true\nno patch\nnull')" ] || fail "$session: $output"
  done
}

@test "injectHostnames: when nothing resolves the pod is admitted unchanged, with a warning" {
  run query '.allowed, (.patch // "no patch"), .warnings[0]' nothing_resolves.yml pod_without_host_aliases.json '{"injectHostnames":["host.docker.internal"]}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = "no patch" ]
  [ "${lines[2]}" = "host-gateway: host.docker.internal not added: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve)" ]
}

# The intent annotation: templates carry the names, each Pod gets the
# address current at its creation. docker_desktop_new_address.yml answers
# 192.168.65.3 where the template was rewritten with 192.168.65.254.

# hostaliases SESSION REQUEST [SETTINGS_JSON]: the object's hostAliases and
# intent annotation after kwctl run (the request's own when there is no
# patch), as one line of JSON.
hostaliases() {
  local session=$1 request=$2 settings=${3:-}
  local response
  response=$(kwctl run --replay-host-capabilities-interactions "test_data/sessions/$session" \
    --request-path "test_data/$request" --settings-json "${settings:-"{}"}" \
    annotated-policy.wasm 2>/dev/null)
  jq -c --argjson response "$response" '
    .object as $object
    | ($response.patch // "" | if . == "" then [] else @base64d | fromjson end) as $patch
    | ($object | reduce $patch[] as $op (.;
        ($op.path | ltrimstr("/") | split("/") | map(gsub("~1"; "/") | gsub("~0"; "~"))
          | map(if test("^[0-9]+$") then tonumber else . end)) as $p
        | if $op.op == "remove" then delpaths([$p]) else setpath($p; $op.value) end))
    | (if .kind == "Pod" then . else .spec.template end) as $pod
    | {hostAliases: $pod.spec.hostAliases, annotation: $pod.metadata.annotations["host-gateway.kubewarden.io/hostnames"],
       allowed: $response.allowed, warnings: $response.warnings}' "test_data/$request"
}

@test "intent: a Pod made from the template gets today's address where the stale entry stood, its other fields kept" {
  run hostaliases docker_desktop_new_address.yml pod_from_template.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"192.168.65.3","hostnames":["db.local","cache.local"],"zzFutureAliasField":7}],"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
}

@test "intent: the same Pod with DNS failing is admitted with the template's address and a warning" {
  run hostaliases nothing_resolves.yml pod_from_template.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"192.168.65.254","hostnames":["db.local","cache.local"],"zzFutureAliasField":7}],"annotation":"db.local,cache.local","allowed":true,"warnings":["host-gateway: db.local, cache.local left at the address they had: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve)"]}' ]
}

@test "intent: a Pod with the annotation and no entry, DNS failing: its names were not added" {
  run query '.allowed, .warnings[0]' nothing_resolves.yml pod_annotation_only.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = true ]
  [ "${lines[1]}" = "host-gateway: db.local, cache.local not added: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve)" ]
}

@test "intent: a template with only the annotation is unchanged, with no lookup; its Pod gets the entry" {
  run hostaliases no_lookups.yml deployment_annotation_only.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":null,"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
  run hostaliases docker_desktop.yml pod_annotation_only.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"hostnames":["db.local","cache.local"],"ip":"192.168.65.254"}],"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
}

@test "intent: kubectl rollout restart with a new address refreshes the template, the entry's other fields kept" {
  run hostaliases docker_desktop_new_address.yml deployment_rollout_restart.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"192.168.65.3","hostnames":["db.local","cache.local"],"zzFutureAliasField":7}],"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
  # The address unchanged: no patch at all.
  run query '.patch // "no patch"' docker_desktop.yml deployment_rollout_restart.json
  [ "$output" = "no patch" ]
}

# A name of a host-gateway entry points at the host and nowhere else, in a
# bare Pod as in a template (whose Pods then get it from the annotation).
@test "a host-gateway name beside a literal entry for it: one result in a Pod and in a Deployment" {
  local expected='[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"192.168.65.254","hostnames":["db.local","cache.local"],"zzFutureAliasField":7}]'
  run hostaliases docker_desktop.yml pod_host_gateway_beside_literal.json
  [ "$status" -eq 0 ]
  [ "$(jq -c .hostAliases <<<"$output")" = "$expected" ] || fail "Pod: $output"
  run hostaliases docker_desktop.yml deployment_host_gateway_beside_literal.json
  [ "$status" -eq 0 ]
  [ "$(jq -c .hostAliases <<<"$output")" = "$expected" ] || fail "Deployment: $output"
}

@test "intent: a ReplicaSet its Deployment owns is left alone, with no lookup" {
  run hostaliases no_lookups.yml replicaset_owned.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"192.168.65.254","hostnames":["db.local","cache.local"],"zzFutureAliasField":7}],"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
}

@test "intent: a malformed annotation is refused on a Deployment and warned about on a Pod" {
  run query '.allowed, .status.message' no_lookups.yml deployment_bad_annotation.json
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "the pod template's annotation host-gateway.kubewarden.io/hostnames is invalid: item 2 is empty; write lowercase host names separated by commas, each alone for the host or as NAME=dns:TARGET" ]
  run query '.allowed, (.patch // "no patch"), .warnings[0]' no_lookups.yml pod_bad_annotation.json
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = "no patch" ]
  [ "${lines[2]}" = 'host-gateway: annotation host-gateway.kubewarden.io/hostnames ignored: item "DB.local" is not a valid DNS-1123 subdomain' ]
}

@test "intent: the annotation and injectHostnames naming one host share one lookup and one entry" {
  # docker_desktop.yml holds one answer: a second lookup would fail the run.
  run hostaliases docker_desktop.yml pod_annotation_only.json '{"injectHostnames":["db.local","host.docker.internal"]}'
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"hostnames":["db.local","cache.local","host.docker.internal"],"ip":"192.168.65.254"}],"annotation":"db.local,cache.local","allowed":true,"warnings":null}' ]
}

@test "dns: a Pod's entry gets the Service's address, its other fields kept; only that name is looked up" {
  run hostaliases in_cluster.yml pod_dns_target.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"10.96.12.34","hostnames":["keycloak.localtest.me","grafana.localtest.me"],"zzFutureAliasField":7}],"annotation":null,"allowed":true,"warnings":null}' ] || fail "$output"
}

@test "dns: a Deployment's template gets the Service's address" {
  run hostaliases in_cluster.yml deployment_dns_target.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"10.96.12.34","hostnames":["keycloak.localtest.me"]}],"annotation":"keycloak.localtest.me=dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local","allowed":true,"warnings":null}' ] || fail "$output"
}

@test "dns: a Pod made from a template points the annotated name at the Service's address now" {
  run hostaliases in_cluster.yml pod_dns_annotation.json
  [ "$status" -eq 0 ]
  [ "$output" = '{"hostAliases":[{"ip":"10.0.0.7","hostnames":["static.internal"]},{"ip":"10.96.12.34","hostnames":["keycloak.localtest.me"],"zzFutureAliasField":7}],"annotation":"keycloak.localtest.me=dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local","allowed":true,"warnings":null}' ] || fail "$output"
}

@test "dns: a Pod whose annotated Service does not resolve is admitted as it is, warned" {
  run query '.allowed, .patch, .warnings[0]' target_missing.yml pod_dns_annotation.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "true" ]
  [ "${lines[1]}" = "null" ]
  [ "${lines[2]}" = "host-gateway: keycloak.localtest.me not pointed at dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local, left as they were: no IPv4 address for ingress-nginx-controller.ingress-nginx.svc.cluster.local (Name does not resolve)" ] || fail "$output"
}

@test "dns: a name outside allowedTargets is refused before any lookup, saying how to allow it" {
  run query '.allowed, .status.message' no_lookups.yml pod_dns_target_not_allowed.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "hostAliases ip \"dns:keycloak.localtest.me\" is not looked up: the policy's allowedTargets setting (*.svc.cluster.local) does not cover it; add the name, or a *. pattern that covers it, to allowedTargets, or write the address itself" ] || fail "$output"
}

@test "dns: a Service that does not resolve refuses the Pod, naming it" {
  run query '.allowed, .status.message' target_missing.yml pod_dns_target.json
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local in hostAliases: no IPv4 address for ingress-nginx-controller.ingress-nginx.svc.cluster.local (Name does not resolve); check that the name resolves from the policy server, or write the address itself" ] || fail "$output"
}

@test "allowedTargets: a malformed pattern is refused when the policy loads, naming the item" {
  run kwctl run --request-path test_data/pod_dns_target.json --settings-json '{"allowedTargets":["*.svc.cluster.local","db.*.com"]}' annotated-policy.wasm
  [ "$status" -ne 0 ]
  [[ "$output" == *'`allowedTargets` item "db.*.com" is neither a lowercase DNS name nor `*.` followed by one, e.g. *.svc.cluster.local'* ]] || fail "$output"
}

# The report form (reportStale), with the audit scanner's requests:
# test_data/audit/ holds stored objects sent as CREATE, no userInfo.
REPORT='{"reportStale":true}'

@test "reportStale: a Pod at the host's address passes, with one lookup" {
  run query '.allowed, (.patch // "no patch")' docker_desktop.yml audit/pod_current.json "$REPORT"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'true\nno patch')" ] || fail "$output"
}

@test "reportStale: a Pod whose host moved fails, naming the names, both addresses and the rollout to restart" {
  run query '.allowed, .status.message' docker_desktop.yml audit/pod_moved.json "$REPORT"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "db.local, cache.local point at 192.168.65.3, but the host is now at 192.168.65.254; restart the Pod's owner: kubectl -n dev rollout restart deployment/web" ] || fail "$output"
}

@test "reportStale: no name resolving is an error (code 500), not a stale Pod" {
  run query '.allowed, .status.code, .status.message' nothing_resolves.yml audit/pod_moved.json "$REPORT"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "false" ]
  [ "${lines[1]}" = "500" ] || fail "$output"
  [ "${lines[2]}" = "cannot check the host's address: no IPv4 address for host.docker.internal, host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal (Name does not resolve); make one of these names resolvable from the policy server, then run the audit again" ] || fail "$output"
}

@test "reportStale: a Pod without names and a Deployment pass with no lookup" {
  for request in audit/pod_without_names.json audit/deployment.json; do
    run query '.allowed, (.patch // "no patch")' no_lookups.yml "$request" "$REPORT"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'true\nno patch')" ] || fail "$request: $output"
  done
}

# offline_blocks FILE...: each shell block marked `<!-- runs: offline -->`,
# as a user would paste it, each ended by a NUL.
offline_blocks() {
  awk '
    inblock && /^ *```/ { inblock = 0; printf "%c", 0; next }
    inblock { sub(/^   /, ""); print; next }
    marked && /^ *```console/ { inblock = 1 }
    { marked = ($0 ~ /<!-- runs: offline -->/) }
  ' "$@"
}

@test "docs: every shell block marked offline runs as written" {
  local blocks=0 block
  while IFS= read -r -d '' block; do
    blocks=$((blocks + 1))
    run bash -euo pipefail -c "$block"
    [ "$status" -eq 0 ] || fail "$block: $output"
  done < <(offline_blocks README.md CONTRIBUTING.md docs/*.md)
  [ "$blocks" -ge 3 ] || fail "only $blocks offline blocks"
}
