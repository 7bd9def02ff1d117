# The policies file that the Kubewarden controller writes for policy-server
# (internal/controller/policyserver_controller_configmap.go, kubewarden
# controller v1.36; unique names as renamed in 1.37.2,
# GHSA-m5vp-9g65-pv6v: `kw.cap.<name>`, `kw.ap.<namespace>.<name>`, from
# GetUniqueName in api/policies/v1): one entry per policy under its unique name, with
# `policyMode`, `allowedToMutate`, `settings`, `timeoutEvalSeconds` and
# `hostCapabilities`: ["*"] for a ClusterAdmissionPolicy, and for an
# AdmissionPolicy the PolicyServer's namespacedPoliciesCapabilities, which
# is ["*"] when unset (as here). JSON is YAML, so policy-server reads it.
# Input: `kubectl get clusteradmissionpolicies,admissionpolicies -A -o json`.
[.items[]
  | (if .kind == "ClusterAdmissionPolicy"
     then "kw.cap." + .metadata.name
     else "kw.ap." + .metadata.namespace + "." + .metadata.name end) as $id
  | {key: $id, value: ({
      namespacedName: {namespace: (.metadata.namespace // ""), name: .metadata.name},
      module: $wasm,
      policyMode: (.spec.mode // "protect"),
      allowedToMutate: (.spec.mutating // false),
      settings: (.spec.settings // {}),
      hostCapabilities: ["*"]
    } + (if .spec.timeoutEvalSeconds then {timeoutEvalSeconds: .spec.timeoutEvalSeconds} else {} end))}]
| from_entries
