#!/usr/bin/env bash
# Start-up hook of the notebook image (docker-stacks runs /usr/local/bin/before-notebook.d/*
# before the server). Writes client configuration for the platform services bound to this
# pod (the env vars of jupyter_constructs/binding_contract.py) and prints which are bound.
# Never prints or writes a secret value: credentials stay in the environment.
#
# docker-stacks *sources* hooks named *.sh into its own start script. Run the body as a
# child process instead, so strict mode and any failure stay here and never keep the
# notebook server from starting.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  bash "${BASH_SOURCE[0]}" || echo "platform-init: failed (exit $?); starting without platform client config" >&2
  return 0
fi
set -euo pipefail

if [[ "${PLATFORM_INIT_DISABLE:-0}" == "1" ]]; then
  echo "platform-init: disabled (PLATFORM_INIT_DISABLE=1)"
  exit 0
fi

readonly MARK="# managed by platform-init: rewritten at every server start; delete this line to keep your edits"
config_dir="${PLATFORM_CONFIG_HOME:-${XDG_CONFIG_HOME:-${HOME}/.config}/platform}"
mkdir -p "${config_dir}"
umask 077

# set NAME...: true when every named variable is set and not empty.
all_set() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || return 1
  done
}

# own PATH: in docker-stacks' root mode hooks run as root before it drops to NB_USER;
# hand PATH and its parent directories below HOME to that user.
own() {
  local path="$1"
  [[ "$(id -u)" == 0 ]] || return 0
  while [[ "${path}" == "${HOME}"/* ]]; do
    chown "${NB_UID:-1000}:${NB_GID:-100}" "${path}"
    path="$(dirname "${path}")"
  done
}

# write_managed PATH: replace PATH with stdin unless the user owns that file (no marker).
write_managed() {
  local path="$1" tmp
  if [[ -e "${path}" ]] && ! head -n 1 "${path}" | grep -qxF "${MARK}"; then
    echo "platform-init:   kept ${path} (written by you; remove it to get the generated one)"
    cat >/dev/null
    return 0
  fi
  mkdir -p "$(dirname "${path}")"
  tmp="$(mktemp "${path}.XXXXXX")"
  { echo "${MARK}"; cat; } >"${tmp}"
  mv -f "${tmp}" "${path}"
  own "${path}"
  echo "platform-init:   wrote ${path}"
}

bound=()

if all_set TRINO_HOST TRINO_PORT TRINO_HTTP_SCHEME TRINO_CATALOG TRINO_SCHEMA TRINO_USER; then
  bound+=(trino)
  echo "platform-init: trino bound: ${TRINO_HTTP_SCHEME}://${TRINO_HOST}:${TRINO_PORT} catalog ${TRINO_CATALOG}.${TRINO_SCHEMA} as ${TRINO_USER}$([[ -n "${TRINO_PASSWORD:-}" ]] && echo ' (password set)')"
  write_managed "${HOME}/.trino_config" <<EOF
server=${TRINO_HTTP_SCHEME}://${TRINO_HOST}:${TRINO_PORT}
catalog=${TRINO_CATALOG}
schema=${TRINO_SCHEMA}
user=${TRINO_USER}
EOF
fi

if all_set S3_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION S3_VERIFY_TLS; then
  bound+=(s3)
  echo "platform-init: s3 bound: ${S3_ENDPOINT_URL} region ${AWS_DEFAULT_REGION}${S3_BUCKET:+ bucket ${S3_BUCKET}} (verify TLS: ${S3_VERIFY_TLS})"
  # Credentials are not written: botocore reads AWS_ACCESS_KEY_ID/SECRET from the env.
  write_managed "${HOME}/.aws/config" <<EOF
[default]
region = ${AWS_DEFAULT_REGION}
endpoint_url = ${S3_ENDPOINT_URL}
s3 =
    addressing_style = path
EOF
fi

if all_set MLFLOW_TRACKING_URI; then
  bound+=(mlflow)
  echo "platform-init: mlflow bound: ${MLFLOW_TRACKING_URI}${MLFLOW_TRACKING_USERNAME:+ as ${MLFLOW_TRACKING_USERNAME}}"
fi

if all_set PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD PGSSLMODE; then
  bound+=(postgres)
  echo "platform-init: postgres bound: ${PGUSER}@${PGHOST}:${PGPORT}/${PGDATABASE} (sslmode ${PGSSLMODE})"
  # No password here: libpq reads PGPASSWORD from the environment.
  write_managed "${HOME}/.pg_service.conf" <<EOF
[platform]
host=${PGHOST}
port=${PGPORT}
dbname=${PGDATABASE}
user=${PGUSER}
sslmode=${PGSSLMODE}
EOF
fi

if all_set DATAHUB_GMS_URL; then
  bound+=(datahub)
  echo "platform-init: datahub bound: ${DATAHUB_GMS_URL}$([[ -n "${DATAHUB_GMS_TOKEN:-}" ]] && echo ' (token set)')"
fi

if all_set RAY_ADDRESS; then
  bound+=(ray)
  echo "platform-init: ray bound: ${RAY_ADDRESS}"
fi

if all_set KAFKA_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL; then
  bound+=(kafka)
  echo "platform-init: kafka bound: ${KAFKA_BOOTSTRAP_SERVERS} (${KAFKA_SECURITY_PROTOCOL}${KAFKA_SASL_MECHANISM:+ ${KAFKA_SASL_MECHANISM}})"
  {
    echo "bootstrap.servers=${KAFKA_BOOTSTRAP_SERVERS}"
    echo "security.protocol=${KAFKA_SECURITY_PROTOCOL}"
    if [[ -n "${KAFKA_SASL_MECHANISM:-}" ]]; then echo "sasl.mechanism=${KAFKA_SASL_MECHANISM}"; fi
    if [[ -n "${KAFKA_SASL_USERNAME:-}" ]]; then echo "sasl.username=${KAFKA_SASL_USERNAME}"; fi
  } | write_managed "${config_dir}/kafka.properties"
fi

if ((${#bound[@]})); then
  printf '%s\n' "${bound[@]}" | write_managed "${config_dir}/services"
  echo "platform-init: bound services: ${bound[*]}"
else
  : | write_managed "${config_dir}/services"
  echo "platform-init: no platform service bound (add PlatformServiceBinding.<service>(...) to the profile or the hub)"
fi
