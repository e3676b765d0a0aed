{{- define "site.selector" -}}
app.kubernetes.io/name: site
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "site.labels" -}}
{{ include "site.selector" . }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
