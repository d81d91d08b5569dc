{{/* The objects' name. */}}
{{- define "rotor.name" -}}
{{- required "name must not be empty" .Values.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The namespace the objects go in. */}}
{{- define "rotor.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* Labels selecting the pods. */}}
{{- define "rotor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rotor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "rotor.labels" -}}
{{ include "rotor.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The container image. */}}
{{- define "rotor.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/*
The pod spec of both modes: the ServiceAccount, non-root, no privilege
escalation, no capabilities, a read-only root file system with a small /tmp.
Called with a dict of "root" (the chart's context), "args" (the container's
arguments) and "restartPolicy".
*/}}
{{- define "rotor.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "rotor.name" $root }}
automountServiceAccountToken: true
{{- with .restartPolicy }}
restartPolicy: {{ . }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
containers:
  - name: rotor
    image: {{ include "rotor.image" $root | quote }}
    {{- with $root.Values.image.pullPolicy }}
    imagePullPolicy: {{ . }}
    {{- end }}
    args:
      {{- toYaml .args | nindent 6 }}
    {{- with .env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .probe }}
    readinessProbe:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    {{- with $root.Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 16Mi
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The pod template's metadata. */}}
{{- define "rotor.podMetadata" -}}
labels:
  {{- include "rotor.selectorLabels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Fails on a mode the chart does not know. */}}
{{- define "rotor.mode" -}}
{{- if not (has .Values.mode (list "cronjob" "server")) -}}
{{- fail (printf "mode must be cronjob or server, not %q" .Values.mode) -}}
{{- end -}}
{{- .Values.mode -}}
{{- end -}}
