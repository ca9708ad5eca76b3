import type { ExportView } from '../../../../server/exports/schemas.js';
import { client } from '../../lib/api.js';
import { session } from '../../lib/session.js';

export type ExportJob = Pick<ExportView, 'id' | 'status' | 'progress' | 'rowCount' | 'sha256' | 'format' | 'createdAt'> & { error?: string | null };

/** Audit exports (DESIGN.md): exportLogs → { id }; getExport / listExports; the file at /exports/:id/download. */
export const exportsApi = {
  request: (input: { format: 'csv' | 'ndjson'; from?: string; to?: string }) => client.audit.exportLogs.mutate(input),
  get: (id: string): Promise<ExportJob> => client.audit.getExport.query({ id }),
  list: (): Promise<ExportJob[]> => client.audit.listExports.query({ limit: 20 }),
  /**
   * Fetches with the bearer token (a plain link cannot send it), then saves the file under the name
   * the server gives it (Content-Disposition: clarion-audit-<id>.csv.gz). `plain` unpacks the gzip in
   * the browser (DecompressionStream) and saves clarion-audit-<id>.csv for spreadsheet users.
   */
  async download(job: ExportJob, opts: { plain?: boolean } = {}): Promise<string> {
    const res = await fetch(`/exports/${encodeURIComponent(job.id)}/download`, { headers: { authorization: `Bearer ${session.token() ?? ''}` } });
    if (!res.ok) throw new Error(res.status === 410 ? 'This export has expired: request a new one.' : `Download failed (${res.status})`);
    const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `clarion-audit-${job.id}.${job.format}.gz`;
    const plain = opts.plain && res.body;
    const blob = plain ? await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).blob() : await res.blob();
    const name = plain ? named.replace(/\.gz$/, '') : named;
    const url = URL.createObjectURL(plain ? new Blob([blob], { type: job.format === 'csv' ? 'text/csv' : 'application/x-ndjson' }) : blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return name;
  },
};
