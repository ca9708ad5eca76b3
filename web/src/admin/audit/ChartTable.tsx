/**
 * The numbers behind a chart as a table (WCAG 1.1.1: a chart needs a text alternative; a screen
 * reader or a phone reads the table). Collapsed under the chart, open by a click.
 */
export function ChartTable<T>({ caption, columns, rows }: { caption: string; columns: [string, (row: T) => string | number][]; rows: T[] }) {
  return (
    <details className="chart-table">
      <summary>Show as a table</summary>
      <div className="table-scroll">
        {/* Named by aria-label, not a <caption>: the figure's caption already says it in text. */}
        <table className="data" aria-label={caption}>
          <thead>
            <tr>
              {columns.map(([h]) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the rows of one report never reorder
              <tr key={i}>
                {columns.map(([h, cell]) => (
                  <td key={h}>{cell(r)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
