#!/bin/sh
# Runs `edugraph-sync run --once` every EDUGRAPH_SYNC_INTERVAL_SECS seconds (docker compose has
# no cron; Kubernetes runs `--every` workers instead). On SIGTERM/SIGINT the running job gets SIGTERM
# (it commits its checkpoint and exits), then this loop exits 0. A failed run is logged and
# retried at the next tick; the job itself makes concurrent runs safe (per-tenant claims and leases).
set -u
interval="${EDUGRAPH_SYNC_INTERVAL_SECS:-3600}"
# The last process started (the job or the sleep). Never cleared: the shell may run the trap
# a few commands after the signal arrived, and it must still know whom to stop.
child=""

stop() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null
    # `wait` can return early inside a trap; wait until the job is really gone.
    while kill -0 "$child" 2>/dev/null; do
      wait "$child" || :
      if kill -0 "$child" 2>/dev/null; then sleep 0.1; fi
    done
  fi
  exit 0
}
trap stop TERM INT

while :; do
  edugraph-sync run --once &
  child=$!
  status=0
  wait "$child" || status=$?
  [ "$status" -eq 0 ] || echo "sync-loop: edugraph-sync run --once exited with $status; next run in ${interval}s" >&2
  sleep "$interval" &
  child=$!
  wait "$child" || :
done
