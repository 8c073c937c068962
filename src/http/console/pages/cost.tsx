/**
 * Cost: the last 30 days as measured by the relay (container awake time, turns, Browser
 * Rendering time), and this month's estimate from Cloudflare's published prices beside the same
 * agent awake all the time.
 */
import { type CostLine, estimateMonth, INSTANCE_TYPE, PRICES_CHECKED, usd } from "../../../commands/cost-estimate";
import { usageLedger } from "../../../sandbox/usage-object";
import { BarChart } from "../chart";
import type { PageContext } from "./context";

const DAYS = 30;

export async function costPage({ env, now }: PageContext) {
  const ledger = usageLedger(env);
  const [days, month] = await Promise.all([ledger.days(DAYS, now), ledger.month(now)]);
  const estimate = estimateMonth(month, now);
  const browserUsed = days.some((day) => day.browserSeconds > 0);
  const rows = estimate.estimate.lines.map((line, index) => [line, estimate.alwaysOn.lines[index]!] as const);
  return (
    <>
      <section class="card">
        <h2>Last {DAYS} days</h2>
        <BarChart id="chart-awake" caption="Container awake (hours)" unit="h" digits={2} points={days.map((day) => ({ label: day.day, value: day.awakeSeconds / 3600 }))} />
        <BarChart id="chart-turns" caption="Turns" unit="turns" digits={0} points={days.map((day) => ({ label: day.day, value: day.turns }))} />
        {browserUsed ? (
          <BarChart id="chart-browser" caption="Browser Rendering (minutes)" unit="min" points={days.map((day) => ({ label: day.day, value: day.browserSeconds / 60 }))} />
        ) : (
          <p class="muted">No Browser Rendering time recorded.</p>
        )}
      </section>
      <section class="card" id="estimate">
        <h2>This month ({estimate.month})</h2>
        <p>
          So far: <strong>{(month.awakeSeconds / 3600).toFixed(1)} h</strong> awake, <strong>{month.turns}</strong> turns. Carried on at
          this rate to the end of the month: about <strong id="estimate-total">{usd(estimate.estimate.usd)}</strong>; the same agent awake all
          month: about <strong id="always-on-total">{usd(estimate.alwaysOn.usd)}</strong>.
        </p>
        <div class="scroll">
          <table>
            <thead>
              <tr><th>Item</th><th class="num">This month</th><th class="num">Awake all month</th></tr>
            </thead>
            <tbody>
              {rows.map(([line, always]) => (
                <tr>
                  <td>
                    {line.item}
                    <div class="muted small">
                      {price(line)}
                      {line.price.included ? `, ${compact(line.price.included)} ${line.unit} included` : ""} ·{" "}
                      <a href={line.price.source}>source</a>
                      {line.price.verified ? "" : " (unverified)"}
                      {line.note ? ` · ${line.note}` : ""}
                    </div>
                  </td>
                  <td class="num">
                    {usd(line.usd)}
                    <div class="muted small">{compact(line.quantity)} {line.unit}</div>
                  </td>
                  <td class="num">{usd(always.usd)}</td>
                </tr>
              ))}
              <tr>
                <th>Total</th>
                <th class="num">{usd(estimate.estimate.usd)}</th>
                <th class="num">{usd(estimate.alwaysOn.usd)}</th>
              </tr>
            </tbody>
          </table>
        </div>
        <p class="muted">
          Prices read {PRICES_CHECKED} (US dollars, Workers Paid; allowances are per account and shared with anything else it runs).
          "Unverified": read as quoted from Cloudflare's page elsewhere, not on the page itself. Container: {INSTANCE_TYPE}, as in
          wrangler.toml. Awake time is measured by the relay: from each start of the gateway to its stop, or to the container's
          sleep after its last turn.
        </p>
      </section>
    </>
  );
}

function price(line: CostLine): string {
  const value = line.price.usd;
  if (value >= 0.01) return `$${value.toFixed(2)} / ${line.unit}`;
  if (value * 1e6 >= 0.01) return `$${(value * 1e6).toFixed(2)} / M ${line.unit}`;
  return `$${value.toExponential(2)} / ${line.unit}`;
}

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(0)}k`;
  return value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(2);
}
