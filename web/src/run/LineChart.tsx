// One small uPlot line chart that follows its container's width.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { formatNumber } from "../fields";
import type { Columns } from "./series";

export function LineChart(props: {
  data: Columns;
  color: string;
  label: string;
  xLabel: string;
  height?: number;
  /** Formats x values in the legend and axis (durations for time axes). */
  formatX?: (x: number) => string;
}) {
  const { data, color, label, xLabel, height = 180, formatX } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const fmtX = formatX ?? ((x: number) => formatNumber(x));
    const options: uPlot.Options = {
      width: Math.max(100, element.clientWidth),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        {
          label: xLabel,
          labelSize: 16,
          size: 36,
          values: (_u, splits) => splits.map((v) => fmtX(v)),
        },
        {
          values: (_u, splits) => splits.map((v) => formatNumber(v)),
          // Wide enough for the longest label.
          size: (_u, values) => Math.max(40, 14 + 7 * Math.max(0, ...(values ?? []).map((v) => String(v).length))),
        },
      ],
      series: [
        { label: xLabel, value: (_u, v) => (v === null || v === undefined ? "" : fmtX(v)) },
        {
          label,
          stroke: color,
          width: 1.5,
          spanGaps: false,
          points: { show: data[0].length < 60 },
          value: (_u, v) => (v === null || v === undefined ? "" : formatNumber(v)),
        },
      ],
    };
    const chart = new uPlot(options, data as uPlot.AlignedData, element);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const width = Math.max(100, element.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its look changes; new data goes through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [color, label, xLabel, height, formatX]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div className="line-chart" ref={box} />;
}
