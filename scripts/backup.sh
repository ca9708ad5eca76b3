#!/usr/bin/env bash
# Takes a backup: pg_dump -Fc into BACKUP_DIR (default ./var/backups) with a sha256 file and a row-count
# manifest from the same snapshot; keeps the newest BACKUP_KEEP (default 7). Honours DATABASE_URL.
#   scripts/backup.sh            take a backup
#   scripts/backup.sh --verify   take one and verify it by restoring into a scratch database
# Cron / systemd: see scripts/clarion-backup.{service,timer} and docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx scripts/backup.ts "$@"
