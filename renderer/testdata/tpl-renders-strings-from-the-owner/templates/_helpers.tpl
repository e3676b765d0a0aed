{{- define "team" }}{{ .Values.team }}{{ end -}}
