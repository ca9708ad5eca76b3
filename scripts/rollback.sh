#!/usr/bin/env bash
# Rolls back a deployment by hand:
#   scripts/rollback.sh                 the last deploy.sh run: down to its migration count, restart, verify
#   scripts/rollback.sh --steps N       roll back N migrations
#   scripts/rollback.sh --restore FILE  restore FILE (a backup.sh dump) over the database, restart, verify
# Code: check out / deploy the previous release first (git checkout <tag>, or the previous image tag).
# shellcheck source=scripts/deploy-lib.sh
source "$(dirname "$0")/deploy-lib.sh"

steps="" restore=""
while (( $# )); do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --restore) restore="$2"; shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done

if [[ -n "$restore" ]]; then
  log "restoring $restore"
  "${TSX[@]}" scripts/restore.ts "$restore" --yes
elif [[ -n "$steps" ]]; then
  rollback_to $(( $(applied_count) - steps ))
else
  [[ -f "$STATE_DIR/last.env" ]] || fail "no recorded deployment in $STATE_DIR; use --steps N or --restore FILE"
  # shellcheck disable=SC1091
  source "$STATE_DIR/last.env"
  log "rolling back the deployment of $DEPLOY_AT (to $DEPLOY_BEFORE_COUNT migrations; backup $DEPLOY_BACKUP)"
  rollback_to "$DEPLOY_BEFORE_COUNT" "$DEPLOY_BACKUP"
fi
restart_servers
verify_health || fail "service not healthy after rollback"
log "rolled back; service healthy"
