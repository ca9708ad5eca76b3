import { Gauge, register, type Registry } from 'prom-client';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/**
 * The last successful (restore-verified) backup, as the worker's backup job records it in Redis, and
 * Prometheus gauges of its time and age so monitoring can alert when backups stop (e.g. age > 26 h).
 */
export interface BackupStatus {
  at: string;
  file: string;
  bytes: number;
  sha256: string;
}

export const backupStatusKey = (deps: Pick<AppDeps, 'config'>, which: 'last-success' | 'last-failure') =>
  redisKey(deps.config.redis, 'backup', which);

export async function readBackupStatus(deps: Pick<AppDeps, 'config' | 'redis'>): Promise<BackupStatus | null> {
  const raw = await deps.redis.get(backupStatusKey(deps, 'last-success')).catch(() => null);
  return raw ? (JSON.parse(raw) as BackupStatus) : null;
}

/**
 * Registers `clarion_backup_last_success_timestamp_seconds` and `clarion_backup_age_seconds` on a registry
 * (the process's /metrics registry), once. Age is -1 when no backup is recorded.
 */
export function registerBackupGauges(deps: Pick<AppDeps, 'config' | 'redis'>, registry: Registry = register): void {
  if (registry.getSingleMetric('clarion_backup_age_seconds')) return;
  new Gauge({
    name: 'clarion_backup_last_success_timestamp_seconds',
    help: 'Unix time of the last successful, restore-verified backup (0 when none is recorded)',
    registers: [registry],
    async collect() {
      const s = await readBackupStatus(deps);
      this.set(s ? Date.parse(s.at) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'clarion_backup_age_seconds',
    help: 'Seconds since the last successful, restore-verified backup (-1 when none is recorded)',
    registers: [registry],
    async collect() {
      const s = await readBackupStatus(deps);
      this.set(s ? Math.round((Date.now() - Date.parse(s.at)) / 1000) : -1);
    },
  });
}
