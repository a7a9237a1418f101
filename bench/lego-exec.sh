#!/bin/sh
# lego `--dns exec` hook used by bench/run.mjs (default EXEC_MODE, i.e. not RAW). lego runs it as
#   lego-exec.sh present <fqdn> <value>    e.g. present _acme-challenge.example.com. <43-char digest>
#   lego-exec.sh cleanup <fqdn> <value>
# and we forward that to Pebble's challtestsrv (BENCH_CHALLTESTSRV_URL, set by the bench):
# /set-txt appends a value, /clear-txt removes every value of the name. lego's exec provider is
# always sequential, so clearing the whole name never removes a value it still needs.
set -eu
url="${BENCH_CHALLTESTSRV_URL:?BENCH_CHALLTESTSRV_URL is not set}"
case "${1:-}" in
  present) exec curl -fsS --max-time 10 -X POST -d "{\"host\":\"$2\",\"value\":\"$3\"}" "$url/set-txt" ;;
  cleanup) exec curl -fsS --max-time 10 -X POST -d "{\"host\":\"$2\"}" "$url/clear-txt" ;;
  *) echo "lego-exec.sh: unknown action '${1:-}'" >&2; exit 2 ;;
esac
