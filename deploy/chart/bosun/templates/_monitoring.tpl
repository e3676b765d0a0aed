{{/* bosun.monitoring tells whether the cluster serves prometheus-operator's API. */}}
{{- define "bosun.monitoring" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}

{{/* bosun.metricsService tells whether the metrics Service is made. */}}
{{- define "bosun.metricsService" -}}
{{- $m := .Values.metrics }}
{{- if and $m.enabled (or $m.service.enabled (and $m.serviceMonitor.enabled (include "bosun.monitoring" .))) }}true{{ end }}
{{- end }}

{{/* bosun.endpoint is the scrape endpoint of a ServiceMonitor or PodMonitor. */}}
{{- define "bosun.endpoint" -}}
port: metrics
path: /metrics
{{- with .interval }}
interval: {{ . }}
{{- end }}
{{- with .scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
{{- with .relabelings }}
relabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
