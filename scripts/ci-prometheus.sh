#!/usr/bin/env bash
# Installs a real Prometheus server (Debian's package) for test/prometheus.test.ts, if it is
# not there yet, and prints the path of its binary on the last line. CI runs
#   MERIDIAN_PROMETHEUS_BIN=$(bash scripts/ci-prometheus.sh | tail -1)
# and passes the variable to the tests; without it, that test is skipped.
# Only the binary is used: the test starts its own server on 127.0.0.1 with its own config and
# data folder, so the package's system service is kept from starting.
set -euo pipefail
exec bash "$(dirname "$0")/ci-apt.sh" prometheus prometheus
