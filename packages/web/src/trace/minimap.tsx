/**
 * The whole trace at a glance above the waterfall: every span row as a thin line on the full
 * timeline (a canvas, so 10,000 rows cost one drawing, not 10,000 elements), the zoomed window
 * framed, the rest dimmed. Dragging on it chooses the window.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { TraceView } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { formatDuration } from '../format.js';
import { DragRange } from './drag-range.js';
import { fractionsOf, windowBetween, type TimeWindow } from './timeline-zoom.js';

const HEIGHT = 44;

export interface MinimapProps {
  view: TraceView;
  /** The whole trace's timeline. */
  full: TimeWindow;
  /** What the waterfall shows. */
  window: TimeWindow;
  onZoom: (w: TimeWindow) => void;
}

export function Minimap({ view, full, window: shown, onZoom }: MinimapProps): ReactNode {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current;
    if (c === null) return;
    const draw = (): void => {
      const ratio = globalThis.devicePixelRatio || 1;
      const width = Math.max(1, c.clientWidth);
      c.width = Math.round(width * ratio);
      c.height = Math.round(HEIGHT * ratio);
      const g = c.getContext('2d');
      if (g === null) return;
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      g.clearRect(0, 0, width, HEIGHT);
      const span = Math.max(1, full.endUs - full.startUs);
      const rows = view.rows;
      const step = HEIGHT / Math.max(1, rows.length);
      const line = Math.max(1, Math.min(4, step - 0.5));
      rows.forEach((r, i) => {
        if (r.kind !== 'span') return;
        const s = view.spans[r.partner ?? r.span]!;
        g.fillStyle = serviceColor(s.service);
        const x = ((r.startUs - full.startUs) / span) * width;
        const w = r.durationUs === undefined ? 2 : Math.max(1, (r.durationUs / span) * width);
        g.fillRect(x, i * step, w, line);
      });
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(c);
    return () => ro.disconnect();
  }, [view, full]);
  const { left, width } = fractionsOf(full, shown);
  const zoomed = shown.startUs > full.startUs || shown.endUs < full.endUs;
  return (
    <div className="minimap" data-testid="minimap">
      <DragRange
        label="Trace overview: drag to zoom the timeline"
        onRange={(a, b) => {
          const w = windowBetween(full, a, b);
          if (w !== undefined) onZoom(w);
        }}
      >
        <canvas ref={canvas} style={{ height: HEIGHT }} aria-hidden="true" />
        {zoomed ? (
          <>
            <span className="minimap-dim" style={{ left: 0, width: `${left * 100}%` }} aria-hidden="true" />
            <span className="minimap-dim" style={{ left: `${(left + width) * 100}%`, right: 0 }} aria-hidden="true" />
          </>
        ) : null}
        <span
          className="minimap-window"
          data-testid="minimap-window"
          style={{ left: `${left * 100}%`, width: `${width * 100}%` }}
          title={`shown: ${formatDuration(shown.startUs - full.startUs)} to ${formatDuration(shown.endUs - full.startUs)} of ${formatDuration(full.endUs - full.startUs)}`}
        />
      </DragRange>
    </div>
  );
}
