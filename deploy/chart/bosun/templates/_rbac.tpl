{{/*
bosun.rbacRules derives the RBAC rules for values.watches as `bosun rbac` derives them without a
cluster (internal/cli/rbac.go; a test in internal/cli keeps the two equal): for every watch,
read and patch its owners, patch their status, update their finalizers; apply, read and delete
the children of the kinds in children.kinds (or of common kinds when a watch lists none);
create the CRDs of its charts' crds/; write Events; and, by mode, hold the Leases. Built-in
kinds come from _kinds.tpl, generated from bosun's table of them; for other kinds the resource
is guessed (lower-case plural) and namespaced, unless rbac.resources says otherwise.

It returns YAML: cluster (rules for the ClusterRole), local (for the Role in watchNamespace),
own (for the Role in the release namespace), guessed and unknown (notes for NOTES.txt).
*/}}
{{- define "bosun.rbacRules" -}}
{{- $kinds := include "bosun.builtinKinds" . | fromYaml }}
{{- $overrides := .Values.rbac.resources | default dict }}
{{- $ns := .Values.watchNamespace }}
{{- $files := .Values.files | default dict }}
{{- $out := dict "cluster" (list) "local" (list) "own" (list) "guessed" (list) "unknown" (list) }}
{{- $children := list }}
{{- $seen := dict }}
{{- $anyKind := list }}
{{- $remote := false }}
{{- $crds := list }}
{{- $ownerVerbs := list "get" "list" "watch" "patch" }}
{{- $childVerbs := list "create" "delete" "get" "list" "patch" "watch" }}
{{- range $file, $raw := .Values.watches }}
{{- if or (hasSuffix ".yaml" $file) (hasSuffix ".yml" $file) }}
{{- $w := $raw }}
{{- if kindIs "string" $raw }}
{{- $w = fromYaml $raw }}
{{- if hasKey $w "Error" }}
{{- fail (printf "watches: %s: not YAML: %s" $file $w.Error) }}
{{- end }}
{{- end }}
{{- $w = include "bosun.lowerKeys" $w | fromYaml }}
{{- $name := default (trimSuffix (ext $file) $file) $w.name }}
{{- $watch := include "bosun.lowerKeys" $w.watch | fromYaml }}
{{- if not $watch.kind }}
{{- fail (printf "watches: %s: watch.kind is missing" $file) }}
{{- end }}
{{- $r := include "bosun.resolveKind" (dict "kind" $watch.kind "group" (default "" $watch.group) "kinds" $kinds "overrides" $overrides) | fromYaml }}
{{- if $r.guessed }}{{ $_ := set $out "guessed" (append $out.guessed $r.guess) }}{{ end }}
{{- $to := ternary "local" "cluster" (and $r.namespaced (ne $ns "")) }}
{{- $rules := get $out $to }}
{{- $rules = append $rules (dict "comment" (printf "Owners of watch %s: read them; patch in the finalizer, ApplySet label and inventory annotations." $name) "group" $r.group "resources" (list $r.resource) "verbs" $ownerVerbs) }}
{{- $status := include "bosun.lowerKeys" $w.status | fromYaml }}
{{- if and (ne (toString $status.enabled) "false") $r.status }}
{{- $rules = append $rules (dict "comment" "Their status: the Applied and Ready conditions." "group" $r.group "resources" (list (printf "%s/status" $r.resource)) "verbs" (list "patch")) }}
{{- end }}
{{- $rules = append $rules (dict "comment" "Children's ownerReferences block their deletion (OwnerReferencesPermissionEnforcement)." "group" $r.group "resources" (list (printf "%s/finalizers" $r.resource)) "verbs" (list "update")) }}
{{- $_ := set $out $to $rules }}

{{- /* Children: children.kinds, or the common kinds. */}}
{{- $ch := include "bosun.lowerKeys" $w.children | fromYaml }}
{{- $list := $ch.kinds }}
{{- if not $list }}
{{- $anyKind = append $anyKind $name }}
{{- $list = include "bosun.commonChildKinds" . | fromYamlArray }}
{{- end }}
{{- $clusterOK := eq (toString $ch.clusterscoped) "true" }}
{{- range $gk := $list }}
{{- $kind := $gk }}
{{- $group := "" }}
{{- if contains "." $gk }}
{{- $kind = index (splitList "." $gk) 0 }}
{{- $group = trimPrefix (printf "%s." $kind) $gk }}
{{- end }}
{{- if not (hasKey $seen $gk) }}
{{- $c := include "bosun.resolveKind" (dict "kind" $kind "group" $group "kinds" $kinds "overrides" $overrides) | fromYaml }}
{{- if or $c.namespaced $clusterOK }}
{{- $_ := set $seen $gk true }}
{{- $children = append $children $c }}
{{- if $c.guessed }}{{ $_ := set $out "guessed" (append $out.guessed $c.guess) }}{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* The CRDs of the charts' crds/ directories, where the charts are among values.files. */}}
{{- if and $w.chart (ne (toString $w.crds) "skip") }}
{{- $charts := list $w.chart }}
{{- range $n, $p := ($w.charts | default (dict)) }}{{ $charts = append $charts $p }}{{ end }}
{{- range $p := $charts }}
{{- $dir := clean (printf "watches/%s" $p) }}
{{- if hasPrefix "/" $p }}{{ $dir = trimPrefix (printf "%s/" (include "bosun.root" $)) (clean $p) }}{{ end }}
{{- $found := false }}
{{- range $path, $content := $files }}
{{- if hasPrefix (printf "%s/" $dir) $path }}
{{- $found = true }}
{{- if regexMatch "^(charts/[^/]+/)*crds/.+\\.(yaml|yml|json)$" (trimPrefix (printf "%s/" $dir) $path) }}
{{- range $doc := regexSplit "(?m)^---.*$" $content -1 }}
{{- $crd := fromYaml $doc }}
{{- if and (eq (toString $crd.kind) "CustomResourceDefinition") $crd.metadata }}
{{- $crds = append $crds $crd.metadata.name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if not $found }}
{{- $_ := set $out "unknown" (append $out.unknown (printf "watch %s: chart %s is not among files, so the CRDs of its crds/ are not known: grant create, and get and patch on them, in rbac.extraClusterRules (or set crds: skip)" $name $p)) }}
{{- end }}
{{- end }}
{{- end }}

{{- $cl := include "bosun.lowerKeys" $w.clusters | fromYaml }}
{{- if or (and $cl.default (ne (toString $cl.default) "local")) $cl.selector $cl.field $cl.allowed $cl.allowedselector }}
{{- $remote = true }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Children's rules: one per API group, namespaced ones first. */}}
{{- $comment := "Children: apply (create, patch), read, and delete when pruned." }}
{{- if $anyKind }}
{{- $comment = printf "%s\nWatch %s lists no children.kinds, so its templates may render any kind: these are\ncommon kinds. List children.kinds in the watch config for exact, tighter rules." $comment (join ", " $anyKind) }}
{{- end }}
{{- range $namespaced := list true false }}
{{- $byGroup := dict }}
{{- range $c := $children }}
{{- if eq $c.namespaced $namespaced }}
{{- $_ := set $byGroup $c.group (append (get $byGroup $c.group | default (list)) $c.resource) }}
{{- end }}
{{- end }}
{{- $to := ternary "local" "cluster" (and $namespaced (ne $ns "")) }}
{{- range $i, $g := keys $byGroup | sortAlpha }}
{{- $r := dict "group" $g "resources" (get $byGroup $g | sortAlpha | uniq) "verbs" $childVerbs }}
{{- if eq $i 0 }}
{{- $_ := set $r "comment" (ternary $comment "Cluster-scoped children (children.clusterScoped)." $namespaced) }}
{{- end }}
{{- $_ := set $out $to (append (get $out $to) $r) }}
{{- end }}
{{- end }}
{{- if $crds }}
{{- $_ := set $out "cluster" (append $out.cluster (dict "comment" "The CRDs of the charts' crds/ directories (crds: install): applied at start-up, never deleted." "group" "apiextensions.k8s.io" "resources" (list "customresourcedefinitions") "verbs" (list "create"))) }}
{{- $_ := set $out "cluster" (append $out.cluster (dict "group" "apiextensions.k8s.io" "resources" (list "customresourcedefinitions") "verbs" (list "get" "patch") "names" ($crds | sortAlpha | uniq))) }}
{{- end }}
{{- $to := ternary "local" "cluster" (ne $ns "") }}
{{- $_ := set $out $to (append (get $out $to) (dict "comment" "Events about owners." "group" "events.k8s.io" "resources" (list "events") "verbs" (list "create" "patch"))) }}

{{- /* The Leases of the mode, in the release namespace. */}}
{{- $lease := include "bosun.leaseName" . }}
{{- if eq .Values.mode "ha" }}
{{- $_ := set $out "own" (list
  (dict "comment" "Leader election (bosun run --leader-elect)." "group" "coordination.k8s.io" "resources" (list "leases") "verbs" (list "create"))
  (dict "group" "coordination.k8s.io" "resources" (list "leases") "verbs" (list "get" "update") "names" (list $lease))) }}
{{- else if eq .Values.mode "sharded" }}
{{- $_ := set $out "own" (list
  (dict "comment" (printf "Sharding (bosun run --sharding): a membership Lease per replica and the shard map, %s-*." $lease) "group" "coordination.k8s.io" "resources" (list "leases") "verbs" (list "get" "list" "watch" "create" "update" "delete"))) }}
{{- end }}
{{- if $remote }}
{{- $_ := set $out "own" (append $out.own (dict "comment" "Workload cluster Secrets (clusters:, label bosun.dev/secret-type: cluster) in bosun's namespace (bosun run --clusters-namespace)." "group" "" "resources" (list "secrets") "verbs" (list "get" "list" "watch"))) }}
{{- $_ := set $out "cluster" (append $out.cluster (dict "comment" "ClusterProfiles (bosun run --cluster-access-providers); not needed without them." "group" "multicluster.x-k8s.io" "resources" (list "clusterprofiles") "verbs" (list "get" "list" "watch"))) }}
{{- end }}
{{- $_ := set $out "guessed" ($out.guessed | sortAlpha | uniq) }}
{{- toYaml $out }}
{{- end }}

{{/* bosun.resolveKind resolves {kind, group} to {group, resource, namespaced, status, guessed, guess}. */}}
{{- define "bosun.resolveKind" -}}
{{- $key := ternary (printf "%s.%s" .kind .group) .kind (ne .group "") }}
{{- $r := dict "group" .group }}
{{- if hasKey .overrides $key }}
{{- $o := get .overrides $key }}
{{- $_ := set $r "resource" $o.resource }}
{{- $_ := set $r "namespaced" (not $o.clusterScoped) }}
{{- $_ := set $r "status" true }}
{{- else if hasKey .kinds $key }}
{{- $k := get .kinds $key }}
{{- $_ := set $r "resource" $k.resource }}
{{- $_ := set $r "namespaced" (not $k.clusterScoped) }}
{{- $_ := set $r "status" $k.status }}
{{- else }}
{{- $res := include "bosun.pluralize" .kind }}
{{- $_ := set $r "resource" $res }}
{{- $_ := set $r "namespaced" true }}
{{- $_ := set $r "status" true }}
{{- $_ := set $r "guessed" true }}
{{- $_ := set $r "guess" (printf "%s → %s" $key $res) }}
{{- end }}
{{- toYaml $r }}
{{- end }}

{{/*
bosun.pluralize guesses a kind's resource as CRDs conventionally name it, as bosun does: lower
case, "es" after s, x, z, ch and sh, "ies" for a consonant and y, "s" otherwise.
*/}}
{{- define "bosun.pluralize" -}}
{{- $s := lower . }}
{{- $n := len $s }}
{{- if eq $n 0 }}
{{- else if or (hasSuffix "s" $s) (hasSuffix "x" $s) (hasSuffix "z" $s) (hasSuffix "ch" $s) (hasSuffix "sh" $s) }}
{{- printf "%ses" $s }}
{{- else if and (hasSuffix "y" $s) (gt $n 1) (not (contains (substr (sub $n 2 | int) (sub $n 1 | int) $s) "aeiou")) }}
{{- printf "%sies" (trimSuffix "y" $s) }}
{{- else }}
{{- printf "%ss" $s }}
{{- end }}
{{- end }}

{{/* bosun.lowerKeys lower-cases the keys of a map, as bosun's config loader does; YAML out. */}}
{{- define "bosun.lowerKeys" -}}
{{- $out := dict }}
{{- if kindIs "map" . }}
{{- range $k, $v := . }}{{ $_ := set $out (lower $k) $v }}{{ end }}
{{- end }}
{{- toYaml $out }}
{{- end }}
