{{/* Labels every child of a Site carries. */}}
{{- define "site.labels" -}}
app.kubernetes.io/name: {{ .Name }}
app.kubernetes.io/instance: {{ .Name }}-{{ .Kind | lower }}
{{- with .Labels.team }}
example.bosun.dev/team: {{ . }}
{{- end }}
{{- end }}

{{- define "site.selector" -}}
app.kubernetes.io/name: {{ .Name }}
{{- end }}
