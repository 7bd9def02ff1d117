# The MutatingWebhookConfiguration that the Kubewarden controller makes of
# each mutating policy, and the ValidatingWebhookConfiguration of each other
# (internal/controller/policy_subreconciler_webhook.go, kubewarden
# controller v1.36; unique names as renamed in 1.37.2,
# GHSA-m5vp-9g65-pv6v: `kw.cap.<name>`, `kw.ap.<namespace>.<name>`, from
# GetUniqueName in api/policies/v1): named by the policy's unique name, one
# webhook `<unique name>.kubewarden.admission` at `/validate/<unique name>`,
# the policy's rules, failurePolicy, matchPolicy, objectSelector,
# timeoutSeconds and matchConditions, sideEffects None unless set, and
# admissionReviewVersions ["v1"]. The namespaceSelector of a
# ClusterAdmissionPolicy is the controller's own exclusion of its namespace
# followed by the policy's matchExpressions only; an AdmissionPolicy
# selects its namespace by name (api/policies/v1/admissionpolicy_types.go).
# The controller points at its policy-server Service; here the URL is
# policy-server on loopback.
# Input: `kubectl get clusteradmissionpolicies,admissionpolicies -A -o json`.
{apiVersion: "v1", kind: "List", items: [.items[]
  | (if .kind == "ClusterAdmissionPolicy"
     then "kw.cap." + .metadata.name
     else "kw.ap." + .metadata.namespace + "." + .metadata.name end) as $id
  | {apiVersion: "admissionregistration.k8s.io/v1",
     kind: (if .spec.mutating then "MutatingWebhookConfiguration" else "ValidatingWebhookConfiguration" end),
     metadata: {name: $id, labels: {"app.kubernetes.io/part-of": "kubewarden"}},
     webhooks: [{
       name: ($id + ".kubewarden.admission"),
       clientConfig: {url: ($url + $id), caBundle: $ca},
       rules: .spec.rules,
       failurePolicy: .spec.failurePolicy,
       matchPolicy: .spec.matchPolicy,
       namespaceSelector: (if .kind == "ClusterAdmissionPolicy"
         then {matchExpressions: ([{key: "kubernetes.io/metadata.name", operator: "NotIn",
                 values: [$kubewarden_namespace]}] + (.spec.namespaceSelector.matchExpressions // []))}
         else {matchLabels: {"kubernetes.io/metadata.name": .metadata.namespace}} end),
       objectSelector: .spec.objectSelector,
       sideEffects: (.spec.sideEffects // "None"),
       timeoutSeconds: .spec.timeoutSeconds,
       admissionReviewVersions: ["v1"],
       matchConditions: (.spec.matchConditions // [])
     } | with_entries(select(.value != null))]}]}
