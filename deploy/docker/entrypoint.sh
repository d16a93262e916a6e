#!/bin/sh
# The image's entrypoint: turns mounted secret files into the variables the binaries
# read, then runs the command. For each NAME below, NAME_FILE (a path, as compose and
# Docker secrets mount them) sets NAME from the file's content, trailing newline removed;
# a NAME already set wins. Setting NAME_FILE to a missing file is an error.
set -eu

for name in CINDER_SECRET CINDER_API_TOKEN CINDER_DASHBOARD_TOKEN; do
  eval "file=\${${name}_FILE:-}"
  eval "value=\${${name}:-}"
  if [ -n "$file" ] && [ -z "$value" ]; then
    if [ ! -r "$file" ]; then
      echo "cinder-entrypoint: ${name}_FILE=$file is not a readable file" >&2
      exit 64
    fi
    # $(…) drops the trailing newlines a secret file usually ends with.
    value=$(cat "$file")
    export "$name=$value"
  fi
  unset "${name}_FILE"
done

# The OpenTelemetry specification reads an empty variable as unset; compose passes
# `OTEL_EXPORTER_OTLP_ENDPOINT=` when no collector is wanted, so drop it here.
if [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; then
  unset OTEL_EXPORTER_OTLP_ENDPOINT
fi

exec "$@"
