#!/bin/bash
# The image's health check: GET /healthz (or the path given, e.g. /readyz) on this
# container's own port; exits 0 on a 200.
# A view-node serves it on CINDER_ADMIN_LISTEN; the gateway and the embedded app on
# CINDER_LISTEN (default port 4000). HTTP/1.0 over bash's /dev/tcp: no client to install.
set -euo pipefail
listen=${CINDER_ADMIN_LISTEN:-${CINDER_LISTEN:-0.0.0.0:4000}}
port=${listen##*:}
path=${1:-/healthz}
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
IFS=' ' read -r -t 2 _version status _ <&3
[ "$status" = 200 ]
