import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { Field } from '../../components/Field.js';
import { errorMessage } from '../../lib/api.js';
import { dateTime } from '../../lib/format.js';
import { type ExportJob, exportsApi } from './exportsApi.js';

const POLL_MS = 1_000;
const exportStatus: Record<string, string> = { queued: 'Queued', running: 'Running', completed: 'Ready', failed: 'Failed', expired: 'Expired' };
const done = (j: ExportJob) => j.status === 'completed' || j.status === 'failed' || j.status === 'expired';

/** Request an audit export, watch its progress, download the file when it is ready. */
export function ExportsPanel() {
  const [format, setFormat] = useState<'csv' | 'ndjson'>('csv');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [jobs, setJobs] = useState<ExportJob[]>([]);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const listed = await exportsApi.list();
      setJobs((prev) => {
        const byId = new Map(prev.map((j) => [j.id, j]));
        for (const j of listed) byId.set(j.id, j);
        return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      });
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  // Poll the unfinished jobs: progress moves live until each completes or fails.
  useEffect(() => {
    const pending = jobs.filter((j) => !done(j));
    if (!pending.length) return;
    const t = setTimeout(async () => {
      const updated = await Promise.all(pending.map((j) => exportsApi.get(j.id).catch(() => j)));
      setJobs((prev) => prev.map((j) => updated.find((u) => u.id === j.id) ?? j));
    }, POLL_MS);
    return () => clearTimeout(t);
  }, [jobs]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { id } = await exportsApi.request({ format, from: from ? new Date(from).toISOString() : undefined, to: to ? new Date(to).toISOString() : undefined });
      setJobs((prev) => [{ id, status: 'queued', progress: 0, rowCount: 0, sha256: null, format, createdAt: new Date().toISOString() }, ...prev]);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">Audit exports</h1>
      <form className="card inline-form" onSubmit={submit} noValidate>
        <Field label="Format">
          {(p) => (
            <select {...p} value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'ndjson')}>
              <option value="csv">CSV</option>
              <option value="ndjson">NDJSON</option>
            </select>
          )}
        </Field>
        <Field label="Export from">{(p) => <input {...p} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
        <Field label="Export to">{(p) => <input {...p} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
        <button type="submit" className="primary">
          Request export
        </button>
      </form>
      {error ? <p role="alert">{error}</p> : null}
      <ul className="exports">
        {jobs.map((j) => (
          <ExportRow key={j.id} job={j} />
        ))}
      </ul>
    </section>
  );
}

function ExportRow({ job }: { job: ExportJob }) {
  const [error, setError] = useState<string | null>(null);
  const pct = Math.max(0, Math.min(100, Math.round(job.progress)));
  return (
    <li className="card export">
      <span>
        {job.format.toUpperCase()} export requested {dateTime(job.createdAt)} — {exportStatus[job.status] ?? job.status}
        {job.status === 'completed' ? `, ${job.rowCount} rows` : ''}
        {job.error ? ` (${job.error})` : ''}
      </span>
      <label className="progress">
        Progress
        <progress max={100} value={pct} aria-valuetext={`${pct}%`}>
          {pct}%
        </progress>
        {pct}%
      </label>
      {job.status === 'completed' ? (
        <>
          <button type="button" className="primary" onClick={() => exportsApi.download(job).catch((e) => setError(errorMessage(e)))}>
            Download (.{job.format}.gz)
          </button>
          <button type="button" onClick={() => exportsApi.download(job, { plain: true }).catch((e) => setError(errorMessage(e)))}>
            Download plain {job.format === 'csv' ? 'CSV' : 'NDJSON'}
          </button>
        </>
      ) : null}
      {job.sha256 ? <code className="muted sha">SHA-256 (of the .gz) {job.sha256}</code> : null}
      {error ? <p role="alert">{error}</p> : null}
    </li>
  );
}
