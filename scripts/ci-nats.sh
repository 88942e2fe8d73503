#!/usr/bin/env bash
# Installs a real NATS server (Debian's package nats-server) for the NATS tests and the NATS
# rows of the transport and scale benches, if it is not there yet, and prints the path of its
# binary on the last line. CI runs
#   MERIDIAN_NATS_SERVER_BIN=$(bash scripts/ci-nats.sh | tail -1)
# and passes the variable to the tests; without it, the NATS tests are skipped (and say why).
set -euo pipefail
exec bash "$(dirname "$0")/ci-apt.sh" nats-server nats-server
