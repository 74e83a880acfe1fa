// A card of label / value rows (a run's or an artifact version's facts).
import type { ReactNode } from "react";

export function InfoCard(props: { title: string; rows: [string, ReactNode][] }) {
  return (
    <section className="card">
      <h3>{props.title}</h3>
      <table className="info-table">
        <tbody>
          {props.rows.map(([label, value]) => (
            <tr key={label}>
              <th>{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
