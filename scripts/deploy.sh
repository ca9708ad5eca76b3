#!/usr/bin/env bash
# Deploys the code in this directory: pre-deployment checks, a backup, migrations, restart, health
# verification through /readyz, and automatic rollback (down migrations, restore of the backup when they
# fail) when anything after the backup fails. Settings: see scripts/deploy-lib.sh and docs/operations.md.
#   scripts/deploy.sh [--skip-restart]
# shellcheck source=scripts/deploy-lib.sh
source "$(dirname "$0")/deploy-lib.sh"
skip_restart=0
[[ "${1:-}" == "--skip-restart" ]] && skip_restart=1

log "pre-deployment checks"
preflight="$("${TSX[@]}" scripts/deploy-check.ts preflight 2>&1)" || { echo "$preflight"; fail "pre-deployment checks failed; nothing changed"; }
echo "$preflight" | grep -v '^APPLIED='
before="$(echo "$preflight" | sed -n 's/^APPLIED=//p')"

log "backup before deploying"
backup_json="$("${TSX[@]}" scripts/backup.ts --tag predeploy --json)" || fail "backup failed; nothing changed"
backup="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).path)' "$backup_json")"
log "backup: $backup"
mkdir -p "$STATE_DIR"
printf 'DEPLOY_BEFORE_COUNT=%s\nDEPLOY_BACKUP=%q\nDEPLOY_AT=%s\n' "$before" "$backup" "$(date -u +%FT%TZ)" >"$STATE_DIR/last.env"

rollback() {
  log "DEPLOYMENT FAILED ($1): rolling back"
  rollback_to "$before" "$backup"
  (( skip_restart )) || restart_servers
  if verify_health; then
    log "rolled back; service healthy on the previous schema"
  else
    log "still unhealthy after down migrations: restoring the backup"
    "${TSX[@]}" scripts/restore.ts "$backup" --yes
    restart_servers
    verify_health || fail "rollback did not restore health: page the on-call engineer (docs/operations.md)"
  fi
  exit 1
}

log "migrating"
"${TSX[@]}" scripts/migrate.ts up || rollback "migration failed"
(( skip_restart )) || restart_servers
log "verifying health"
verify_health || rollback "health verification failed"
log "deployed: $(applied_count) migration(s) applied, service healthy"
