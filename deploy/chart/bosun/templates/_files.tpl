{{/*
bosun.directories lays out what the pod finds below /etc/bosun: values.watches in watches/,
and every directory of values.files in a ConfigMap of its own (a ConfigMap's keys are file
names, so a directory is the most one ConfigMap can hold), mounted at the same path. The watch
configs' relative templates: and chart: paths then hold in the pod as they do beside the files.

It returns YAML: order (the directories, watches first, then by path: a directory comes before
those inside it, which are mounted over it), and dirs (directory → configMap, volume,
mountPath, files: file name → content).
*/}}
{{- define "bosun.directories" -}}
{{- $fullname := include "bosun.fullname" . }}
{{- $root := include "bosun.root" . }}
{{- $dirs := dict }}
{{- $order := list }}
{{- if .Values.watches }}
{{- $files := dict }}
{{- range $name, $w := .Values.watches }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $name) }}
{{- fail (printf "watches: %q is not a file name (letters, digits, '-', '_' and '.'; no directories)" $name) }}
{{- end }}
{{- $_ := set $files $name (ternary $w (toYaml $w) (kindIs "string" $w)) }}
{{- end }}
{{- $_ := set $dirs "watches" (dict "configMap" (printf "%s-watches" $fullname) "volume" "watches" "mountPath" (printf "%s/watches" $root) "files" $files) }}
{{- $order = append $order "watches" }}
{{- end }}
{{- $volumes := dict "watches" "watches" }}
{{- range $path, $content := .Values.files }}
{{- if or (hasPrefix "/" $path) (ne (clean $path) $path) (has ".." (splitList "/" $path)) (not (contains "/" $path)) }}
{{- fail (printf "files: %q: want a clean relative path with a directory, such as templates/site/deployment.yaml" $path) }}
{{- end }}
{{- $dir := dir $path }}
{{- $name := base $path }}
{{- if or (eq $dir "watches") (hasPrefix "watches/" $dir) }}
{{- fail (printf "files: %s: watches/ holds values.watches; put watch configs there" $path) }}
{{- end }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $name) }}
{{- fail (printf "files: %s: a ConfigMap key takes only letters, digits, '-', '_' and '.'" $path) }}
{{- end }}
{{- if not (hasKey $dirs $dir) }}
{{- $slug := regexReplaceAll "[^a-z0-9]+" (lower $dir) "-" | trimAll "-" }}
{{- $volume := $slug }}
{{- if gt (len $volume) 63 }}
{{- $volume = printf "%s-%s" (trunc 54 $slug | trimSuffix "-") (sha256sum $dir | trunc 8) }}
{{- end }}
{{- if hasKey $volumes $volume }}
{{- fail (printf "files: directories %s and %s make the same ConfigMap name: rename one" (get $volumes $volume) $dir) }}
{{- end }}
{{- $_ := set $volumes $volume $dir }}
{{- $_ := set $dirs $dir (dict "configMap" (printf "%s-%s" $fullname $slug | trunc 253) "volume" $volume "mountPath" (printf "%s/%s" $root $dir) "files" (dict)) }}
{{- end }}
{{- $_ := set (get $dirs $dir).files $name $content }}
{{- end }}
{{- $order = concat $order (sortAlpha (without (keys $dirs) "watches")) }}
{{- toYaml (dict "order" $order "dirs" $dirs) }}
{{- end }}
