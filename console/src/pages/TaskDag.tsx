import type { SubtaskInstance } from '../api/types';

const FILL: Record<string, string> = {
  SUCCESSFUL: '#52c41a',
  FAILED: '#f5222d',
  RUNNING: '#1677ff',
  READY: '#91caff',
  PENDING: '#d9d9d9',
  CANCELED: '#faad14',
  SKIPPED: '#bfbfbf',
};

const NODE_W = 200;
const NODE_H = 44;
const GAP_X = 60;
const GAP_Y = 16;

/** Columns by depth: a subtask stands one column right of its deepest upstream. */
function layout(subtasks: SubtaskInstance[]) {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const depth = new Map<number, number>();
  const depthOf = (s: SubtaskInstance, seen: Set<number>): number => {
    const known = depth.get(s.id);
    if (known !== undefined) return known;
    if (seen.has(s.id)) return 0;
    seen.add(s.id);
    const d = Math.max(
      -1,
      ...s.upstreams.map((u) => {
        const up = byId.get(u);
        return up ? depthOf(up, seen) : -1;
      }),
    );
    depth.set(s.id, d + 1);
    return d + 1;
  };
  const columns: SubtaskInstance[][] = [];
  for (const s of subtasks) {
    const d = depthOf(s, new Set());
    (columns[d] ??= []).push(s);
  }
  const position = new Map<number, { x: number; y: number }>();
  columns.forEach((column, c) =>
    column.forEach((s, r) => position.set(s.id, { x: c * (NODE_W + GAP_X), y: r * (NODE_H + GAP_Y) })),
  );
  const rows = Math.max(1, ...columns.map((c) => c.length));
  return {
    position,
    width: columns.length * (NODE_W + GAP_X) - GAP_X,
    height: rows * (NODE_H + GAP_Y) - GAP_Y,
  };
}

/** A task's subtasks as a graph, upstreams to downstreams, coloured by status. */
export function TaskDag({
  subtasks,
  selected,
  onSelect,
}: {
  subtasks: SubtaskInstance[];
  selected?: number;
  onSelect: (id: number) => void;
}) {
  const { position, width, height } = layout(subtasks);
  return (
    <div style={{ overflow: 'auto', maxHeight: 520 }}>
      <svg width={width + 2} height={height + 2} data-testid="task-dag" role="img">
        {subtasks.flatMap((s) =>
          s.downstreams.map((d) => {
            const from = position.get(s.id);
            const to = position.get(d);
            if (!from || !to) return null;
            return (
              <line
                key={`${s.id}-${d}`}
                x1={from.x + NODE_W}
                y1={from.y + NODE_H / 2}
                x2={to.x}
                y2={to.y + NODE_H / 2}
                stroke="#8c8c8c"
              />
            );
          }),
        )}
        {subtasks.map((s) => {
          const p = position.get(s.id)!;
          return (
            <g
              key={s.id}
              transform={`translate(${p.x + 1},${p.y + 1})`}
              onClick={() => onSelect(s.id)}
              style={{ cursor: 'pointer' }}
              data-testid={`subtask-${s.id}`}
              data-status={s.status}
            >
              <rect
                width={NODE_W}
                height={NODE_H}
                rx={6}
                fill="#fff"
                stroke={selected === s.id ? '#1677ff' : '#d9d9d9'}
                strokeWidth={selected === s.id ? 2 : 1}
              />
              <rect width={6} height={NODE_H} rx={3} fill={FILL[s.status] ?? '#d9d9d9'} />
              <text x={14} y={18} fontSize={12} fill="#262626">
                {s.name.length > 26 ? `${s.name.slice(0, 25)}…` : s.name}
              </text>
              <text x={14} y={34} fontSize={11} fill="#8c8c8c">
                {s.status}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
