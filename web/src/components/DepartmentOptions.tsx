/** The options of a department select: "Choose…" and every active department as "Name (CODE)". */
export function DepartmentOptions({ departments }: { departments: readonly { id: string; name: string; code: string; isActive: boolean }[] | undefined }) {
  return (
    <>
      <option value="">Choose…</option>
      {(departments ?? [])
        .filter((d) => d.isActive)
        .map((d) => (
          <option key={d.id} value={d.id}>
            {d.name} ({d.code})
          </option>
        ))}
    </>
  );
}
