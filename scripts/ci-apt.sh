#!/usr/bin/env bash
# bash scripts/ci-apt.sh PACKAGE BINARY: installs Debian's PACKAGE if BINARY is not on the PATH
# yet, and prints the path of BINARY on the last line. Used by ci-prometheus.sh and
# ci-nats.sh: the tests use only the binary (each starts its own server on 127.0.0.1), so the
# package's system service is kept from starting.
set -euo pipefail
package=$1
binary=$2

if command -v "$binary" >/dev/null 2>&1; then
  command -v "$binary"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-apt.sh: $binary is not installed and installing $package needs root (apt-get)" >&2
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
apt-get install -y -qq --no-install-recommends "$package" >&2

command -v "$binary"
