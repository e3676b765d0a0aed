{{- define "basic.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end -}}
