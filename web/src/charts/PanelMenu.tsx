// A panel's settings (the gear): keys of an added panel, x-axis, smoothing, scales, band,
// grouping aggregate and size. Unset fields inherit the workspace's settings.
import { useEffect, useRef, useState } from "react";
import { Choice, SmoothingInput, XAxisSelect } from "./controls";
import type { Aggregate, GroupBand } from "./m4";
import type { Height, PanelModel, PanelSettings, ResolvedSettings, Width } from "./model";

export interface PanelMenuProps {
  model: PanelModel;
  resolved: ResolvedSettings;
  knownKeys: readonly string[];
  grouped: boolean;
  onSettings: (patch: PanelSettings) => void;
  /** Only for added panels: new key specs. */
  onKeys?: (keys: string[]) => void;
  /** Moves the panel among its section's panels (absent in full screen). */
  onMove?: (delta: -1 | 1) => void;
  onClose: () => void;
}

export function PanelMenu(props: PanelMenuProps) {
  const { model, resolved, knownKeys, grouped, onSettings } = props;
  const own = model.settings;
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(props.onClose);
  close.current = props.onClose;
  useEffect(() => {
    // A press outside the menu (other than on its gear, which toggles it) or Escape closes it.
    const onDown = (e: MouseEvent) => {
      const target = e.target as Element | null;
      if (box.current?.contains(target)) return;
      const toggle = target?.closest?.("[data-menu-toggle]");
      if (toggle && toggle.closest(".panel") === box.current?.closest(".panel")) return;
      close.current();
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && close.current();
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, []);
  return (
    <div ref={box} className="panel-menu" role="dialog" aria-label="Panel settings">
      {props.onKeys && <KeysField keys={model.keys} onKeys={props.onKeys} />}
      {props.onMove && (
        <div className="menu-row">
          <span>Position</span>
          <button type="button" onClick={() => props.onMove?.(-1)} data-testid="panel-move-earlier">
            Move earlier
          </button>
          <button type="button" onClick={() => props.onMove?.(1)} data-testid="panel-move-later">
            Move later
          </button>
        </div>
      )}
      <label>
        <span>x-axis</span>
        <XAxisSelect value={own.x} keys={knownKeys} inherit="Workspace default" onChange={(x) => onSettings({ x })} />
      </label>
      <label>
        <span>Smoothing</span>
        <SmoothingInput value={own.smoothing} inherit="Workspace default" onChange={(smoothing) => onSettings({ smoothing })} />
      </label>
      <div className="menu-row">
        <label className="check">
          <input type="checkbox" checked={resolved.logX} onChange={(e) => onSettings({ logX: e.target.checked || undefined })} />
          log x
        </label>
        <label className="check">
          <input type="checkbox" checked={resolved.logY} onChange={(e) => onSettings({ logY: e.target.checked || undefined })} />
          log y
        </label>
        {!grouped && (
          <label className="check">
            <input type="checkbox" checked={resolved.band} onChange={(e) => onSettings({ band: e.target.checked || undefined })} />
            min/max band
          </label>
        )}
      </div>
      {grouped && (
        <div className="menu-row">
          <span>Groups</span>
          <select
            aria-label="group line"
            value={resolved.aggregate}
            onChange={(e) => onSettings({ aggregate: e.target.value === "mean" ? undefined : (e.target.value as Aggregate) })}
          >
            <option value="mean">mean</option>
            <option value="median">median</option>
            <option value="min">min</option>
            <option value="max">max</option>
          </select>
          <select
            aria-label="group band"
            value={resolved.groupBand}
            onChange={(e) => onSettings({ groupBand: e.target.value === "minmax" ? undefined : (e.target.value as GroupBand) })}
          >
            <option value="minmax">min–max band</option>
            <option value="std">std band</option>
            <option value="stderr">stderr band</option>
            <option value="none">no band</option>
          </select>
        </div>
      )}
      <div className="menu-row">
        <span>Width</span>
        <Choice<Width>
          label="width"
          value={resolved.width}
          options={[
            { value: "third", label: "⅓" },
            { value: "half", label: "½" },
            { value: "full", label: "Full" },
          ]}
          onChange={(width) => onSettings({ width: width === "third" ? undefined : width })}
        />
      </div>
      <div className="menu-row">
        <span>Height</span>
        <Choice<Height>
          label="height"
          value={resolved.height}
          options={[
            { value: "small", label: "Small" },
            { value: "large", label: "Large" },
          ]}
          onChange={(height) => onSettings({ height: height === "small" ? undefined : height })}
        />
      </div>
      <div className="menu-row end">
        <button onClick={props.onClose}>Close</button>
      </div>
    </div>
  );
}

function KeysField(props: { keys: string[]; onKeys: (keys: string[]) => void }) {
  const [text, setText] = useState(props.keys.join(", "));
  const apply = () => {
    const keys = splitKeys(text);
    if (keys.length) props.onKeys(keys);
  };
  return (
    <label>
      <span>Keys</span>
      <input
        aria-label="panel keys"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => e.key === "Enter" && apply()}
      />
    </label>
  );
}

/** Comma-separated key specs; a `/regex/` may itself hold commas inside the slashes. */
export function splitKeys(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let inRegex = false;
  for (const ch of text) {
    if (ch === "/" && current.trim() === "") inRegex = true;
    else if (ch === "/" && inRegex) inRegex = false;
    if (ch === "," && !inRegex) {
      if (current.trim()) out.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
