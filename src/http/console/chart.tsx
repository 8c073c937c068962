/** A small bar chart as inline SVG, drawn on the server: one bar per day. */

export interface ChartPoint {
  label: string;
  value: number;
}

const WIDTH = 600;
const HEIGHT = 120;
const BOTTOM = 16;

export function BarChart(props: { id: string; caption: string; points: ChartPoint[]; unit: string; digits?: number }) {
  const max = Math.max(...props.points.map((point) => point.value), 0);
  const slot = WIDTH / Math.max(1, props.points.length);
  const total = props.points.reduce((sum, point) => sum + point.value, 0);
  const digits = props.digits ?? 1;
  return (
    <figure class="chart" id={props.id} data-total={String(total)}>
      <figcaption>
        {props.caption}: {total.toFixed(digits)} {props.unit} in {props.points.length} days, at most {max.toFixed(digits)} a day
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={props.caption} preserveAspectRatio="none">
        <line class="axis" x1="0" y1={HEIGHT - BOTTOM} x2={WIDTH} y2={HEIGHT - BOTTOM} />
        {props.points.map((point, index) => {
          const height = max > 0 ? ((HEIGHT - BOTTOM - 4) * point.value) / max : 0;
          return (
            <rect class="bar" x={index * slot + 1} y={HEIGHT - BOTTOM - height} width={Math.max(1, slot - 2)} height={height}>
              <title>{`${point.label}: ${point.value.toFixed(digits)} ${props.unit}`}</title>
            </rect>
          );
        })}
        {props.points
          .map((point, index) => [point, index] as const)
          // Every 7th day, counted back from today, so that the last label is today's.
          .filter(([, index]) => (props.points.length - 1 - index) % 7 === 0)
          .map(([point, index]) => (
            <text x={index === props.points.length - 1 ? WIDTH : index * slot + slot / 2} y={HEIGHT - 3} text-anchor={index === props.points.length - 1 ? "end" : "middle"}>
              {point.label.slice(5)}
            </text>
          ))}
      </svg>
    </figure>
  );
}
