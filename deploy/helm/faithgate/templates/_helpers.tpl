{{/* Names and labels. */}}
{{- define "faithgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "faithgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "faithgate.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "faithgate.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "faithgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "faithgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "faithgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "faithgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Secret the chart writes (database URL, signing key, API keys) when values carry them. */}}
{{- define "faithgate.secretName" -}}
{{- include "faithgate.fullname" . -}}
{{- end -}}

{{- define "faithgate.claimName" -}}
{{- default (printf "%s-data" (include "faithgate.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* Where a secret value comes from: "name key", or "" when it is not configured. */}}
{{- define "faithgate.databaseSecret" -}}
{{- if .Values.database.existingSecret -}}
{{ .Values.database.existingSecret }} {{ .Values.database.existingSecretKey }}
{{- else if .Values.database.url -}}
{{ include "faithgate.secretName" . }} database-url
{{- end -}}
{{- end -}}

{{- define "faithgate.signingSecret" -}}
{{- if .Values.signingKey.existingSecret -}}
{{ .Values.signingKey.existingSecret }} {{ .Values.signingKey.existingSecretKey }}
{{- else if .Values.signingKey.pem -}}
{{ include "faithgate.secretName" . }} audit_signing_key.pem
{{- end -}}
{{- end -}}

{{- define "faithgate.vllmSecret" -}}
{{- if .Values.engine.vllm.existingSecret -}}
{{ .Values.engine.vllm.existingSecret }} {{ .Values.engine.vllm.existingSecretKey }}
{{- else if .Values.engine.vllm.apiKey -}}
{{ include "faithgate.secretName" . }} vllm-api-key
{{- end -}}
{{- end -}}

{{- define "faithgate.metricsSecret" -}}
{{- if .Values.apiKeys.existingSecret -}}
{{ .Values.apiKeys.existingSecret }} {{ .Values.apiKeys.existingSecretKey }}
{{- else if .Values.apiKeys.metrics -}}
{{ include "faithgate.secretName" . }} metrics-api-key
{{- end -}}
{{- end -}}

{{- define "faithgate.trainSecret" -}}
{{- if .Values.apiKeys.existingSecret -}}
{{ .Values.apiKeys.existingSecret }} {{ .Values.apiKeys.existingSecretTrainKey }}
{{- else if .Values.apiKeys.train -}}
{{ include "faithgate.secretName" . }} train-api-key
{{- end -}}
{{- end -}}

{{/* The vLLM URL faithgate drives: the external one, else the in-chart vLLM Service. */}}
{{- define "faithgate.vllmUrl" -}}
{{- if .Values.engine.vllm.url -}}
{{ .Values.engine.vllm.url }}
{{- else if .Values.vllm.enabled -}}
http://{{ include "faithgate.fullname" . }}-vllm:8000
{{- end -}}
{{- end -}}

{{/* Refuse configurations that cannot work, with a message that says why. */}}
{{- define "faithgate.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if .Values.autoscaling.enabled -}}{{- $replicas = int (max $replicas .Values.autoscaling.minReplicas) -}}{{- end -}}
{{- if and (gt $replicas 1) (not (include "faithgate.databaseSecret" .)) -}}
{{- fail "more than one replica needs an external PostgreSQL: set database.url or database.existingSecret (SQLite is for a single replica)" -}}
{{- end -}}
{{- if and (gt $replicas 1) (not .Values.persistence.enabled) -}}
{{- fail "more than one replica needs the shared data volume (persistence.enabled): the adapter registry and the signing key live there" -}}
{{- end -}}
{{- if and (eq .Values.engine.kind "vllm") (not (include "faithgate.vllmUrl" .)) -}}
{{- fail "engine.kind=vllm needs engine.vllm.url (an external vLLM server) or vllm.enabled" -}}
{{- end -}}
{{- if not (has .Values.engine.kind (list "transformers" "vllm" "none")) -}}
{{- fail "engine.kind must be transformers, vllm or none" -}}
{{- end -}}
{{- if and .Values.alertmanagerConfig.enabled (not (include "faithgate.trainSecret" .)) -}}
{{- fail "alertmanagerConfig.enabled needs the hook's key (scope train): set apiKeys.train or apiKeys.existingSecret" -}}
{{- end -}}
{{- if and .Values.training.job.enabled (gt (int .Values.training.job.gpus) 1) (not .Values.training.job.base) (not .Values.training.job.jobId) -}}
{{- fail "training.job.gpus > 1 runs training.run directly: set training.job.base (a model folder on the data volume)" -}}
{{- end -}}
{{- end -}}

{{/* The environment every faithgate container gets (server and training Job). */}}
{{- define "faithgate.env" -}}
- name: FAITHGATE_DATA_DIR
  value: /data
- name: HOME
  value: /data
{{- with include "faithgate.databaseSecret" . }}
{{- $ref := splitList " " . }}
- name: FAITHGATE_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ index $ref 0 }}, key: {{ index $ref 1 }}}
{{- end }}
{{- with include "faithgate.vllmSecret" . }}
{{- $ref := splitList " " . }}
- name: FAITHGATE_VLLM_API_KEY
  valueFrom:
    secretKeyRef: {name: {{ index $ref 0 }}, key: {{ index $ref 1 }}}
{{- end }}
{{- end -}}
