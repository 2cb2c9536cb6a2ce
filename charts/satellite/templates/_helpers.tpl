{{/*
The label every object carries, as in manifests/: the Deployment selects its pods by it, so a
Deployment applied from manifests/ can be taken over by a release (a selector cannot change).
*/}}
{{- define "satellite.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.name }}
{{- end }}

{{/* Helm's own labels: which release and chart made an object. */}}
{{- define "satellite.helmLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The operator's objects: the selector label and Helm's own. */}}
{{- define "satellite.labels" -}}
{{ include "satellite.selectorLabels" . }}
{{ include "satellite.helmLabels" . }}
{{- end }}

{{- define "satellite.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The operator's command line. Flags whose value is the operator's own default are left out, so
the defaults render manifests/'s args exactly: -lease (satellite-operator), -workers (2),
-log-format (json without a terminal, as in a pod).
*/}}
{{- define "satellite.args" -}}
{{- $v := .Values -}}
{{- $args := list "run" "-operator" -}}
{{- if $v.allNamespaces }}{{ $args = append $args "-all-namespaces" }}{{ end -}}
{{- if $v.leaderElection.enabled }}
{{- $args = append $args "-leader-elect" -}}
{{- if ne $v.name "satellite-operator" }}{{ $args = concat $args (list "-lease" $v.name) }}{{ end -}}
{{- end -}}
{{- if $v.configApi.enabled }}{{ $args = append $args "-config-api" }}{{ end -}}
{{- if $v.configApi.site }}{{ $args = concat $args (list "-site" $v.configApi.site) }}{{ end -}}
{{- if ne (int $v.workers) 2 }}{{ $args = concat $args (list "-workers" (toString (int $v.workers))) }}{{ end -}}
{{- if $v.controllerImage }}{{ $args = concat $args (list "-controller-image" $v.controllerImage) }}{{ end -}}
{{- $args = concat $args (list "-health" (printf ":%d" (int $v.metrics.port))) -}}
{{- if eq $v.log.level "debug" }}{{ $args = append $args "-D" }}{{ end -}}
{{- if eq $v.log.format "text" }}{{ $args = concat $args (list "-log-format" "text") }}{{ end -}}
{{- concat $args $v.extraArgs | toJson -}}
{{- end }}

{{/*
Combinations values.schema.json cannot refuse with a clear message: refused here, before
anything is sent to the cluster.
*/}}
{{- define "satellite.validate" -}}
{{- $v := .Values -}}
{{- if and (gt (int $v.replicas) 1) (not $v.leaderElection.enabled) }}
{{- fail (printf "replicas is %d but leaderElection.enabled is false: several operators without a leader would all reconcile the same NatsClusters and fight; set leaderElection.enabled=true, or replicas=1" (int $v.replicas)) }}
{{- end }}
{{- if and $v.configApi.site (not $v.configApi.enabled) }}
{{- fail (printf "configApi.site is %q but configApi.enabled is false: the site names the config API's subjects (-site goes with -config-api); set configApi.enabled=true, or leave configApi.site empty" $v.configApi.site) }}
{{- end }}
{{- $fixed := dict
  "v" "makes satellite print its version and exit instead of running the operator; remove it"
  "version" "makes satellite print its version and exit instead of running the operator; remove it"
  "h" "makes satellite print its help and exit instead of running the operator; remove it"
  "help" "makes satellite print its help and exit instead of running the operator; remove it"
  "operator" "is always passed by the chart; remove it"
  "namespace" "would leave the release's namespace, where the operator's rights are: install the release into the namespace to run, or set allNamespaces=true"
  "n" "would leave the release's namespace, where the operator's rights are: install the release into the namespace to run, or set allNamespaces=true" }}
{{- $byValue := dict "all-namespaces" "allNamespaces" "A" "allNamespaces" "leader-elect" "leaderElection.enabled" "lease" "name (the Lease is named after it)" "config-api" "configApi.enabled" "site" "configApi.site" "workers" "workers" "controller-image" "controllerImage" "health" "metrics.port" "D" "log.level" "debug" "log.level" "log-format" "log.format" }}
{{- range $v.extraArgs }}
{{- if hasPrefix "-" . }}
{{- $flag := regexReplaceAll "=.*$" (trimPrefix "-" (trimPrefix "-" .)) "" }}
{{- if hasKey $fixed $flag }}
{{- fail (printf "extraArgs: %q %s" . (get $fixed $flag)) }}
{{- end }}
{{- if hasKey $byValue $flag }}
{{- fail (printf "extraArgs: %q is set by the value %s; set that instead" . (get $byValue $flag)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $v.podMonitor.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PodMonitor")) }}
{{- fail "podMonitor.enabled is true but this cluster has no monitoring.coreos.com/v1 PodMonitor (the Prometheus Operator's CRD): install the Prometheus Operator first, or set podMonitor.enabled=false (helm template: pass --api-versions monitoring.coreos.com/v1/PodMonitor)" }}
{{- end }}
{{- end }}
