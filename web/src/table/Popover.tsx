import { useEffect, useRef, useState, type ReactNode } from "react";

/** A button that opens a panel below it; a click outside or Escape closes it. */
export function Popover(props: {
  label: ReactNode;
  title?: string;
  testId?: string;
  className?: string;
  align?: "left" | "right";
  children: (close: () => void) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return (
    <div className={`rt-popover ${props.className ?? ""}`} ref={ref}>
      <button
        type="button"
        className={open ? "rt-tool active" : "rt-tool"}
        title={props.title}
        aria-expanded={open}
        data-testid={props.testId}
        onClick={() => setOpen(!open)}
      >
        {props.label}
      </button>
      {open && <div className={`rt-panel ${props.align === "right" ? "right" : ""}`}>{props.children(() => setOpen(false))}</div>}
    </div>
  );
}
