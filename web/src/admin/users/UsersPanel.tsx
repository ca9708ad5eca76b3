import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { User } from '../../../../server/users/schemas.js';
import { Field } from '../../components/Field.js';
import { errorMessage, useTRPC } from '../../lib/api.js';
import { dateTime, roleLabel } from '../../lib/format.js';
import type { SessionUser } from '../../lib/session.js';
import { CreateUserForm } from './CreateUserForm.js';
import { EditUserForm } from './EditUserForm.js';

const ROLES = ['operator', 'nurse', 'doctor', 'head_doctor', 'admin'] as const;

/** Users of the hospital: search, filter by role and department, page through; create and edit. */
export function UsersPanel({ self }: { self: SessionUser }) {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [role, setRole] = useState('');
  const [departmentId, setDepartmentId] = useState('');
  const [page, setPage] = useState(1);
  const [mode, setMode] = useState<{ kind: 'create' } | { kind: 'edit'; user: User } | null>(null);
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const input = {
    page,
    limit: 20,
    search: search.trim() || undefined,
    role: (role || undefined) as (typeof ROLES)[number] | undefined,
    departmentId: departmentId || undefined,
  };
  const users = useQuery({ ...trpc.users.getAll.queryOptions(input), placeholderData: keepPreviousData });
  const filter = (fn: (v: string) => void) => (e: { target: { value: string } }) => {
    fn(e.target.value);
    setPage(1);
  };

  return (
    <section aria-labelledby="users-title">
      <header className="page-head">
        <h1 id="users-title">Users</h1>
        <button type="button" className="primary" onClick={() => setMode({ kind: 'create' })}>
          Create user
        </button>
      </header>
      {mode?.kind === 'create' ? <CreateUserForm departments={departments.data ?? []} onClose={() => setMode(null)} /> : null}
      {mode?.kind === 'edit' ? (
        <EditUserForm key={mode.user.id} user={mode.user} self={self} departments={departments.data ?? []} onClose={() => setMode(null)} />
      ) : null}
      <div className="filters">
        <Field label="Search users">{(p) => <input {...p} type="search" value={search} onChange={filter(setSearch)} placeholder="Name or email" maxLength={100} />}</Field>
        <Field label="Filter by role">
          {(p) => (
            <select {...p} value={role} onChange={filter(setRole)}>
              <option value="">All roles</option>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleLabel[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Filter by department">
          {(p) => (
            <select {...p} value={departmentId} onChange={filter(setDepartmentId)}>
              <option value="">All departments</option>
              {(departments.data ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="table-scroll">
      <table className="data stack-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Department</th>
            <th scope="col">Status</th>
            <th scope="col">Last sign-in</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(users.data?.users ?? []).map((u) => (
            <tr key={u.id}>
              <td data-label="Name">{u.name}</td>
              <td data-label="Email">{u.email}</td>
              <td data-label="Role">{roleLabel[u.role]}</td>
              <td data-label="Department">{u.departmentName ?? '—'}</td>
              <td data-label="Status">{!u.isActive ? 'Deactivated' : u.isLocked ? 'Locked' : u.mustChangePassword ? 'Must set password' : 'Active'}</td>
              <td data-label="Last sign-in">{u.lastLoginAt ? dateTime(u.lastLoginAt) : 'Never'}</td>
              <td>
                <button type="button" onClick={() => setMode({ kind: 'edit', user: u })} aria-label={`Edit ${u.name}`}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {users.isPending ? <p className="empty" role="status">Loading users…</p> : null}
      {users.data && users.data.users.length === 0 ? <p className="empty">{search || role || departmentId ? 'No users match this search.' : 'No users yet.'}</p> : null}
      {users.isError ? <p role="alert">{errorMessage(users.error)}</p> : null}
      <div className="pager">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          Previous page
        </button>
        <span>
          Page {users.data?.page ?? page} of {Math.max(1, users.data?.totalPages ?? 1)} · {users.data?.total ?? 0} users
        </span>
        <button type="button" disabled={page >= (users.data?.totalPages ?? 1)} onClick={() => setPage(page + 1)}>
          Next page
        </button>
      </div>
    </section>
  );
}
