# Shared by scripts/deploy.sh and scripts/rollback.sh (sourced, not run).
# Settings (environment):
#   DATABASE_URL, PORT, …        as for the server (server/config.ts)
#   MIGRATIONS_DIR               migrations to apply (default ./migrations)
#   DEPLOY_RESTART_CMD           command that restarts every server instance (e.g.
#                                "systemctl restart 'clarion-server@*'" or "docker-compose up -d --no-deps server-1 server-2");
#                                default: restart one local `npm run server` on PORT, tracked by DEPLOY_PID_FILE
#   DEPLOY_PID_FILE              default ./var/run/server.pid;  DEPLOY_LOG_FILE  default ./var/log/server.log
#   DEPLOY_HEALTH_URL            default http://127.0.0.1:${PORT:-3000}/readyz (several: space-separated)
#   DEPLOY_HEALTH_TIMEOUT        seconds to wait for every health URL to answer 200 (default 60)
#   DEPLOY_STATE_DIR             where the last deployment is recorded for rollback.sh (default ./var/deploy)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TSX=(node --import tsx)
export MIGRATIONS_DIR="${MIGRATIONS_DIR:-$ROOT/migrations}"
PID_FILE="${DEPLOY_PID_FILE:-$ROOT/var/run/server.pid}"
LOG_FILE="${DEPLOY_LOG_FILE:-$ROOT/var/log/server.log}"
HEALTH_URLS="${DEPLOY_HEALTH_URL:-http://127.0.0.1:${PORT:-3000}/readyz}"
HEALTH_TIMEOUT="${DEPLOY_HEALTH_TIMEOUT:-60}"
STATE_DIR="${DEPLOY_STATE_DIR:-$ROOT/var/deploy}"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { log "ERROR: $*"; exit 1; }

applied_count() { "${TSX[@]}" scripts/deploy-check.ts applied-count; }

# Restarts the server(s). The built-in default stops the local instance (SIGTERM: it tells WebSocket
# clients to reconnect and drains) and starts a new one in the background.
restart_servers() {
  if [[ -n "${DEPLOY_RESTART_CMD:-}" ]]; then
    log "restarting: $DEPLOY_RESTART_CMD"
    bash -c "$DEPLOY_RESTART_CMD"
    return
  fi
  mkdir -p "$(dirname "$PID_FILE")" "$(dirname "$LOG_FILE")"
  if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    local old; old="$(cat "$PID_FILE")"
    log "stopping server pid $old"
    kill -TERM "$old" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$old" 2>/dev/null || true
  fi
  log "starting server on port ${PORT:-3000} (log: $LOG_FILE)"
  mkdir -p "$(dirname "$LOG_FILE")"
  nohup "${TSX[@]}" server/main.ts >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
}

# Every health URL must answer 200 within HEALTH_TIMEOUT seconds.
verify_health() {
  local deadline=$(( $(date +%s) + HEALTH_TIMEOUT )) url body
  for url in $HEALTH_URLS; do
    until body="$(curl -fsS --max-time 3 "$url" 2>/dev/null)"; do
      if (( $(date +%s) >= deadline )); then
        # /readyz shows why it failed only to the metrics token holder (METRICS_TOKEN, the servers' environment).
        log "health check FAILED: $url: $(curl -sS --max-time 3 ${METRICS_TOKEN:+-H "Authorization: Bearer $METRICS_TOKEN"} "$url" 2>&1 | head -c 400)"
        return 1
      fi
      sleep 0.5
    done
    log "healthy: $url"
  done
}

# Rolls the schema back to `$1` applied migrations; with a backup file as `$2`, restores it when the
# down migrations fail, or always when DEPLOY_RESTORE_ON_ROLLBACK=always.
rollback_to() {
  local target="$1" backup="${2:-}" now steps restore="${DEPLOY_RESTORE_ON_ROLLBACK:-auto}"
  now="$(applied_count)"
  steps=$(( now - target ))
  local down_ok=1
  if (( steps > 0 )); then
    log "rolling back $steps migration(s) ($now → $target)"
    "${TSX[@]}" scripts/migrate.ts down "$steps" --confirm-production || down_ok=0
  else
    log "no migrations to roll back ($now applied)"
  fi
  if [[ -n "$backup" ]] && { [[ "$restore" == always ]] || (( down_ok == 0 )); }; then
    log "restoring backup $backup"
    "${TSX[@]}" scripts/restore.ts "$backup" --yes
  elif (( down_ok == 0 )); then
    fail "down migrations failed and no backup to restore"
  fi
}
