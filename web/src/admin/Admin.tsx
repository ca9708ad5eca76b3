import type { SessionUser } from '../lib/session.js';
import { AlarmReportPanel } from './audit/AlarmReportPanel.js';
import { AuditLogPanel } from './audit/AuditLogPanel.js';
import { CompliancePanel } from './audit/CompliancePanel.js';
import { ExportsPanel } from './audit/ExportsPanel.js';
import { DepartmentsPanel } from './departments/DepartmentsPanel.js';
import { IntegrationsPanel } from './integrations/IntegrationsPanel.js';
import { UnreachablePanel } from './reach/UnreachablePanel.js';
import { SettingsPanel } from './settings/SettingsPanel.js';
import { UsersPanel } from './users/UsersPanel.js';

const sections = [
  ['users', 'Users'],
  ['departments', 'Departments'],
  ['settings', 'Settings'],
  ['reach', 'Reach'],
  ['integrations', 'Integrations'],
  ['audit', 'Audit log'],
  ['exports', 'Exports'],
  ['compliance', 'Compliance'],
  ['alarms', 'Alarm load'],
] as const;
type Section = (typeof sections)[number][0];

/** The admin's paperwork screens, one section at a time (#/admin/<section>). */
export function Admin({ sub, user }: { sub: string; user: SessionUser }) {
  const section: Section = sections.some(([k]) => k === sub) ? (sub as Section) : 'users';
  return (
    <main className="admin">
      <nav className="admin-nav" aria-label="Admin sections">
        {sections.map(([key, label]) => (
          <a key={key} className="admin-link" href={`#/admin/${key}`} aria-current={key === section ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <div className="admin-body">
        {section === 'users' ? <UsersPanel self={user} /> : null}
        {section === 'departments' ? <DepartmentsPanel /> : null}
        {section === 'settings' ? <SettingsPanel /> : null}
        {section === 'reach' ? <UnreachablePanel /> : null}
        {section === 'integrations' ? <IntegrationsPanel /> : null}
        {section === 'audit' ? <AuditLogPanel /> : null}
        {section === 'exports' ? <ExportsPanel /> : null}
        {section === 'compliance' ? <CompliancePanel /> : null}
        {section === 'alarms' ? <AlarmReportPanel /> : null}
      </div>
    </main>
  );
}
