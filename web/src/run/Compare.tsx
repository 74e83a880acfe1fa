/** Placeholder: the run comparer is being built (`?runs=a,b,c`). */
export function Compare(props: { entity: string; project: string }) {
  return <div className="compare">{props.project}</div>;
}
