{{- define "site.port" -}}
{{ .Spec.port | default .Values.port | default 80 }}
{{- end }}
