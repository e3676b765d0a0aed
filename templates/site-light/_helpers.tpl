{{/* Labels shared by every child of a Site; the selector labels must never change. */}}
{{- define "site.selector" -}}
app.kubernetes.io/name: site
app.kubernetes.io/instance: {{ .Name }}
{{- end }}
{{- define "site.labels" -}}
{{ include "site.selector" . }}
app.kubernetes.io/part-of: {{ .Name }}
{{- end }}
