/**
 * A strip to drag a range on (the waterfall's ruler, the minimap): it reports the range as two
 * fractions of its width, and shows it while the pointer moves. Pointer capture keeps the drag
 * going when the pointer leaves the strip.
 */
import { useRef, useState, type PointerEvent, type ReactNode } from 'react';
import { MIN_DRAG_FRACTION } from './timeline-zoom.js';

export interface DragRangeProps {
  label: string;
  className?: string;
  onRange: (from: number, to: number) => void;
  children?: ReactNode;
}

export function DragRange({ label, className, onRange, children }: DragRangeProps): ReactNode {
  const strip = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | undefined>(undefined);
  const fraction = (e: PointerEvent<HTMLDivElement>): number => {
    const r = strip.current!.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width)));
  };
  return (
    <div
      ref={strip}
      className={`drag-range${className === undefined ? '' : ` ${className}`}`}
      aria-label={label}
      title={label}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.currentTarget.setPointerCapture(e.pointerId);
        const at = fraction(e);
        setDrag({ from: at, to: at });
        e.preventDefault();
      }}
      onPointerMove={(e) => {
        if (drag !== undefined) setDrag({ from: drag.from, to: fraction(e) });
      }}
      onPointerUp={(e) => {
        if (drag === undefined) return;
        const to = fraction(e);
        setDrag(undefined);
        if (Math.abs(to - drag.from) >= MIN_DRAG_FRACTION) onRange(drag.from, to);
      }}
      onPointerCancel={() => setDrag(undefined)}
    >
      {children}
      {drag !== undefined ? (
        <span className="drag-selection" style={{ left: `${Math.min(drag.from, drag.to) * 100}%`, width: `${Math.abs(drag.to - drag.from) * 100}%` }} aria-hidden="true" />
      ) : null}
    </div>
  );
}
