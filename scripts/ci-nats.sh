#!/usr/bin/env bash
# Installs a real NATS server (Debian's package nats-server) for the NATS tests and the NATS
# rows of `bench transport`, if it is not there yet, and prints the path of its binary on the
# last line. CI runs
#   MERIDIAN_NATS_SERVER_BIN=$(bash scripts/ci-nats.sh | tail -1)
# and passes the variable to the tests; without it, the NATS tests are skipped (and say why).
# Only the binary is used: every test starts its own server on 127.0.0.1 on free ports, so the
# package's system service is kept from starting.
set -euo pipefail

if command -v nats-server >/dev/null 2>&1; then
  command -v nats-server
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-nats.sh: nats-server is not installed and installing it needs root (apt-get)" >&2
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
apt-get install -y -qq --no-install-recommends nats-server >&2

command -v nats-server
