import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Field } from '../../components/Field.js';
import { errorMessage, useTRPC } from '../../lib/api.js';
import { dateTime, roleLabel } from '../../lib/format.js';
import { AlertResponseCharts } from './AlertResponseCharts.js';
import { ChartTable } from './ChartTable.js';

const day = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The compliance report of a period, with charts (recharts). */
export function CompliancePanel() {
  const trpc = useTRPC();
  const [draft, setDraft] = useState({ from: isoDate(Date.now() - 30 * day), to: isoDate(Date.now() + day) });
  const [period, setPeriod] = useState<{ from: string; to: string } | null>(null);
  const report = useQuery({ ...trpc.audit.getComplianceReport.queryOptions(period ?? { from: '', to: '' }), enabled: period !== null });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setPeriod({ from: new Date(draft.from).toISOString(), to: new Date(draft.to).toISOString() });
  };
  const r = report.data;
  const actions = (r?.activity.byAction ?? []).slice().sort((a, b) => b.success + b.failure - (a.success + a.failure)).slice(0, 15);
  // Not `role`: recharts spreads each entry's fields onto its bar's <path>, and role="Admin" is an invalid ARIA role.
  const twoFa = (r?.twoFactor.withoutTwoFactorByRole ?? []).map((x) => ({ roleName: roleLabel[x.key] ?? x.key, count: x.count }));

  return (
    <section aria-labelledby="compliance-title">
      <h1 id="compliance-title">Compliance report</h1>
      <form className="card inline-form" onSubmit={submit}>
        <Field label="Report from">{(p) => <input {...p} type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />}</Field>
        <Field label="Report to">{(p) => <input {...p} type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />}</Field>
        <button type="submit" className="primary">
          Generate report
        </button>
      </form>
      {report.isFetching ? <p role="status">Generating…</p> : null}
      {report.isError ? <p role="alert">{errorMessage(report.error)}</p> : null}
      {r ? (
        <div className="report">
          <p className="muted">Generated {dateTime(r.generatedAt)}</p>
          <dl className="stats">
            <div>
              <dt>Audited actions</dt>
              <dd>{r.activity.total}</dd>
            </div>
            <div>
              <dt>Failed sign-ins</dt>
              <dd>{r.authentication.failedLogins.count}</dd>
            </div>
            <div>
              <dt>Lockouts</dt>
              <dd>{r.authentication.lockouts.count}</dd>
            </div>
            <div>
              <dt>Inactive accounts</dt>
              <dd>{r.inactiveAccounts.noRecentLogin.count}</dd>
            </div>
            <div>
              <dt>Audit chain</dt>
              <dd>{r.chain.verified === null ? 'Not checked' : r.chain.verified ? 'Intact' : `BROKEN at ${r.chain.firstBadSeq}`}</dd>
            </div>
          </dl>
          <figure className="card chart">
            <figcaption>Events by action</figcaption>
            <ResponsiveContainer width="100%" height={Math.max(200, actions.length * 28 + 60)}>
              <BarChart data={actions} layout="vertical" margin={{ left: 10 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" allowDecimals={false} />
                <YAxis type="category" dataKey="action" width={240} interval={0} />
                <Tooltip />
                <Legend />
                <Bar dataKey="success" stackId="a" fill="#1f6f3f" name="Success" isAnimationActive={false} />
                <Bar dataKey="failure" stackId="a" fill="#b3261e" name="Failure" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
            <ChartTable
              caption="Events by action"
              rows={actions}
              columns={[
                ['Action', (a) => a.action],
                ['Success', (a) => a.success],
                ['Failure', (a) => a.failure],
              ]}
            />
          </figure>
          <figure className="card chart">
            <figcaption>Active users without two-factor, by role (of {r.twoFactor.activeUsers})</figcaption>
            <ResponsiveContainer width="100%" height={240}>
              <BarChart data={twoFa}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="roleName" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Bar dataKey="count" fill="#1d4ed8" name="Users" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
            <ChartTable
              caption="Active users without two-factor, by role"
              rows={twoFa}
              columns={[
                ['Role', (x) => x.roleName],
                ['Users without two-factor', (x) => x.count],
              ]}
            />
          </figure>
          {r.alertResponse ? <AlertResponseCharts data={r.alertResponse} /> : null}
        </div>
      ) : null}
    </section>
  );
}
