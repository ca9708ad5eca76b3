import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyingKeys } from '../../server/audit/anchor.js';
import type { AppDeps } from '../../server/deps.js';
import { maintenancePayload } from '../../server/jobs/queues.js';
import type { Logger } from '../../server/logger.js';
import { type BackupStatus, backupStatusKey } from '../../server/ops/backup-status.js';
import { takeBackup, verifyBackup } from '../../server/ops/backup.js';
import type { Processor } from '../registry.js';

/**
 * Scheduled backups (BACKUP_SCHEDULE, default daily 02:30): pg_dump into BACKUP_DIR, keep BACKUP_KEEP,
 * verify each by restoring into a scratch database (row counts against the snapshot's manifest, audit
 * chains), then record the last success in Redis (gauges in server/ops/backup-status.ts) and beside the files.
 *
 * The job only starts the backup and returns: the maintenance queue runs one job at a time and also
 * carries the sweeper, which must never wait behind a long dump.
 */
let running: Promise<void> | null = null;

async function backupOnce(deps: AppDeps, log: Logger): Promise<void> {
  const { dir, keep } = deps.config.backup;
  const started = Date.now();
  try {
    const b = await takeBackup({ databaseUrl: deps.config.database.url, dir, keep, anchorKey: deps.config.secrets.auditAnchorKey });
    const v = await verifyBackup({ path: b.path, databaseUrl: deps.config.database.url, anchorKey: verifyingKeys(deps.config.secrets) });
    if (!v.ok) throw new Error(`backup ${b.file} failed verification: ${v.problems.join('; ')}`);
    const status: BackupStatus = { at: new Date().toISOString(), file: b.file, bytes: b.bytes, sha256: b.sha256 };
    await writeFile(join(dir, 'last-success.json'), `${JSON.stringify(status)}\n`);
    await deps.redis.set(backupStatusKey(deps, 'last-success'), JSON.stringify(status)).catch((err) => log.warn({ err: err.message }, 'could not record backup status in Redis'));
    log.info({ file: b.file, bytes: b.bytes, removed: b.removed.length, tables: v.tables.length, chains: v.chains.length, ms: Date.now() - started }, 'backup taken and verified');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await deps.redis.set(backupStatusKey(deps, 'last-failure'), JSON.stringify({ at: new Date().toISOString(), error: message })).catch(() => undefined);
    log.error({ err: message }, 'scheduled backup FAILED');
  }
}

export const backupProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'backup',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    if (running) return { started: false, reason: 'a backup is already running' };
    running = backupOnce(deps, log).finally(() => {
      running = null;
    });
    return { started: true };
  },
};

/** For tests and shutdown: the backup in progress, if any. */
export const backupInProgress = () => running;
