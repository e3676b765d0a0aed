{{/*
Names, labels and the settings that follow from the mode.
*/}}

{{- define "bosun.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the name of every object of the release. */}}
{{- define "bosun.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bosun.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bosun.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bosun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bosun.labels" -}}
helm.sh/chart: {{ include "bosun.chart" . }}
{{ include "bosun.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "bosun.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bosun.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "bosun.image" -}}
{{- $img := .Values.image }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag | toString) }}
{{- end }}
{{- end }}

{{/* The replicas: .Values.replicas, else the mode's default. */}}
{{- define "bosun.replicas" -}}
{{- if kindIs "invalid" .Values.replicas }}
{{- get (dict "single" 1 "ha" 2 "sharded" 3) .Values.mode }}
{{- else }}
{{- .Values.replicas | int }}
{{- end }}
{{- end }}

{{/* The Lease's name (ha) or the Leases' prefix (sharded). */}}
{{- define "bosun.leaseName" -}}
{{- default (include "bosun.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{- define "bosun.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- if eq .Values.mode "sharded" }}45{{ else }}40{{ end }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds | int }}
{{- end }}
{{- end }}

{{/* The mount point of the watches and files, and the directory bosun run --config reads. */}}
{{- define "bosun.root" -}}/etc/bosun{{- end }}
{{- define "bosun.configDir" -}}/etc/bosun/watches{{- end }}

{{/*
bosun.validate fails the render on settings that cannot work, with a message that says what
to change. The schema checks types and enums; this checks what depends on several values.
*/}}
{{- define "bosun.validate" -}}
{{- $replicas := include "bosun.replicas" . | int }}
{{- if and (eq .Values.mode "single") (gt $replicas 1) }}
{{- fail (printf "replicas: %d, but mode single runs one replica without leader election (two would reconcile the same owners): set mode to ha or sharded" $replicas) }}
{{- end }}
{{- $configDir := include "bosun.configDir" . }}
{{- $existingWatches := false }}
{{- range .Values.existingConfigMaps }}
{{- if eq (clean .mountPath) $configDir }}{{ $existingWatches = true }}{{ end }}
{{- end }}
{{- if and (not .Values.watches) (not $existingWatches) }}
{{- fail (printf "no watches: set watches (file name → watch config), or mount a ConfigMap of them at %s with existingConfigMaps; see docs/install.md" $configDir) }}
{{- end }}
{{- if and .Values.watches $existingWatches }}
{{- fail (printf "existingConfigMaps mounts a ConfigMap at %s, where the watches of values.watches go: use one or the other" $configDir) }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- $dirs := include "bosun.directories" . | fromYaml }}
{{- range $cm := .Values.existingConfigMaps }}
{{- $at := clean $cm.mountPath }}
{{- range $dir := $dirs.order }}
{{- $mount := (get $dirs.dirs $dir).mountPath }}
{{- if and (ne $at $configDir) (or (eq $at $mount) (hasPrefix (printf "%s/" $at) $mount)) }}
{{- fail (printf "existingConfigMaps: %s at %s would hide the files of %s (mounted at %s): mount it elsewhere" $cm.name $at $dir $mount) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
