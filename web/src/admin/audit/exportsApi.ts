import type { ExportView } from '../../../../server/exports/schemas.js';
import { client } from '../../lib/api.js';
import { session } from '../../lib/session.js';

export type ExportJob = Pick<ExportView, 'id' | 'status' | 'progress' | 'rowCount' | 'sha256' | 'format' | 'createdAt'> & { error?: string | null };

/** Audit exports (DESIGN.md): exportLogs → { id }; getExport / listExports; the file at /exports/:id/download. */
export const exportsApi = {
  request: (input: { format: 'csv' | 'ndjson'; from?: string; to?: string }) => client.audit.exportLogs.mutate(input),
  get: (id: string): Promise<ExportJob> => client.audit.getExport.query({ id }),
  list: (): Promise<ExportJob[]> => client.audit.listExports.query({ limit: 20 }),
  /** Fetches with the bearer token (a plain link cannot send it), then saves the file. */
  async download(job: ExportJob): Promise<void> {
    const res = await fetch(`/exports/${encodeURIComponent(job.id)}/download`, { headers: { authorization: `Bearer ${session.token() ?? ''}` } });
    if (!res.ok) throw new Error(`Download failed (${res.status})`);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `audit-export-${job.id}.${job.format}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};
