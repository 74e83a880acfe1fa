// The project's Analysis tab: a scatter plot, parallel coordinates and parameter importance
// over the visible runs (the runs table's filter and hidden runs apply), in the runs' colours.
import { useMemo } from "react";
import { useProject } from "../project/state";
import { useJsonParam, useQueryParam } from "../router";
import { Importance } from "./Importance";
import { ParallelCoordinates } from "./ParallelCoordinates";
import { Scatter } from "./Scatter";
import { categoricalFields, numericFields } from "./numeric";
import "./analysis.css";

/** Default parallel-coordinate axes: this many numeric config fields at most. */
const DEFAULT_AXES = 8;

export function Analysis() {
  const { entity, project, visibleRuns, colorOf, loading, runs } = useProject();
  const [xParam, setX] = useQueryParam("an.x");
  const [yParam, setY] = useQueryParam("an.y");
  const [targetParam, setTarget] = useQueryParam("an.target");
  const [axesParam, setAxes] = useJsonParam<string[] | null>("an.axes", null);
  const [colorParam, setColorBy] = useQueryParam("an.color");

  const fields = useMemo(() => numericFields(visibleRuns), [visibleRuns]);
  const configFields = useMemo(() => fields.filter((f) => f.path.startsWith("config.")), [fields]);
  const summaryFields = useMemo(() => fields.filter((f) => f.path.startsWith("summary.")), [fields]);
  const categorical = useMemo(() => categoricalFields(visibleRuns), [visibleRuns]);

  // The target metric: chosen, else a summary field that looks like a loss or accuracy.
  const target =
    targetParam ??
    (summaryFields.find((f) => /loss|acc|score|reward/i.test(f.path)) ?? summaryFields[0])?.path ??
    "";
  // Fields that vary across the visible runs come first as defaults (a constant says nothing).
  const varying = configFields.filter((f) => f.distinct > 1);
  const x = xParam ?? varying[0]?.path ?? configFields[0]?.path ?? fields[0]?.path ?? "";
  const y = yParam ?? (target || (fields.find((f) => f.path !== x)?.path ?? ""));
  const axes = axesParam ?? [
    ...(varying.length >= 2 ? varying : configFields).slice(0, DEFAULT_AXES).map((f) => f.path),
    ...(target ? [target] : []),
  ];

  if (loading && runs.length === 0) return <div className="muted">Loading runs…</div>;
  if (visibleRuns.length === 0)
    return (
      <div className="empty" data-testid="analysis-empty">
        No visible runs: change the filter or show hidden runs.
      </div>
    );
  return (
    <div className="analysis" data-testid="analysis">
      <div className="muted small">
        {visibleRuns.length} visible run{visibleRuns.length === 1 ? "" : "s"} · {configFields.length} numeric config
        fields · {summaryFields.length} numeric summary metrics
        {visibleRuns.length < 3 && " — compare more runs for a meaningful analysis."}
      </div>
      <Scatter
        entity={entity}
        project={project}
        runs={visibleRuns}
        fields={[...fields, ...categorical]}
        x={x}
        y={y}
        setX={(path) => setX(path)}
        setY={(path) => setY(path)}
        colorOf={colorOf}
      />
      <ParallelCoordinates
        entity={entity}
        project={project}
        runs={visibleRuns}
        fields={[...fields, ...categorical]}
        axes={axes}
        setAxes={(next) => setAxes(next)}
        target={target}
        colorBy={colorParam === "target" ? "target" : "run"}
        setColorBy={(mode) => setColorBy(mode === "run" ? null : mode)}
        colorOf={colorOf}
      />
      <Importance
        entity={entity}
        project={project}
        runs={visibleRuns}
        targets={summaryFields}
        params={[...configFields, ...categorical]}
        target={target}
        setTarget={(path) => setTarget(path)}
        onPlot={(param) => {
          setX(param);
          setY(target);
          window.scrollTo({ top: 0, behavior: "smooth" });
        }}
      />
    </div>
  );
}
