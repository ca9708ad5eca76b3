import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../lib/api.js';

export const PRESENCE_POLL_MS = 5_000;

export interface DepartmentScreens {
  id: string;
  code: string;
  name: string;
  /** null while unknown (not loaded yet, or the server cannot tell). */
  screens: number | null;
}

/** Screens online per active department (every instance's boards), polled every few seconds. */
export interface Presence {
  departments: DepartmentScreens[];
  known: boolean;
  screensOf: (departmentId: string) => number | null;
  /** Asks the server now (before raising), falling back to the last poll. */
  checkScreens: (departmentId: string) => Promise<number | null>;
}

export function usePresence(): Presence {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const presence = useQuery({ ...trpc.hospitals.getPresence.queryOptions(), refetchInterval: PRESENCE_POLL_MS, staleTime: 0 });
  const known = presence.data?.known === true && !presence.isError;
  const counts = new Map((presence.data?.departments ?? []).map((d) => [d.departmentId, d.screensOnline]));
  const screensOf = (id: string) => (known ? (counts.get(id) ?? 0) : null);
  const list = (departments.data ?? []).filter((d) => d.isActive).map((d) => ({ id: d.id, code: d.code, name: d.name, screens: screensOf(d.id) }));
  const checkScreens = async (id: string) => {
    const fresh = await presence.refetch();
    if (fresh.isError || !fresh.data?.known) return null;
    return fresh.data.departments.find((d) => d.departmentId === id)?.screensOnline ?? 0;
  };
  return { departments: list, known, screensOf, checkScreens };
}
