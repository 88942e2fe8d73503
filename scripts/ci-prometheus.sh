#!/usr/bin/env bash
# Installs a real Prometheus server (Debian's package) for test/prometheus.test.ts, if it is
# not there yet, and prints the path of its binary on the last line. CI runs
#   MERIDIAN_PROMETHEUS_BIN=$(bash scripts/ci-prometheus.sh | tail -1)
# and passes the variable to the tests; without it, that test is skipped.
# Only the binary is used: the test starts its own server on 127.0.0.1 with its own config and
# data folder, so the package's system service is kept from starting.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1; then
  command -v prometheus
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-prometheus.sh: prometheus is not installed and installing it needs root (apt-get)" >&2
  exit 1
fi

# A policy-rc.d that says "no" keeps the package's postinst from starting the daemon.
policy=/usr/sbin/policy-rc.d
had_policy=0
if [ -e "$policy" ]; then had_policy=1; fi
if [ $had_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
fi
cleanup() { if [ $had_policy -eq 0 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends prometheus >&2

command -v prometheus
