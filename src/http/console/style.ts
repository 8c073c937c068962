/** The console's one stylesheet, served from /admin/console.css (the CSP allows no inline styles). */
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1b1d21; --muted: #5d6470; --bg: #f7f7f5; --card: #fff; --line: #e2e3e0;
  --accent: #d9480f; --ok: #2b8a3e; --bad: #c92a2a; --bar: #e8590c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e9eaec; --muted: #a0a6b0; --bg: #151618; --card: #1e2023;
  --line: #32353a; --accent: #ff8a4c; --ok: #69db7c; --bad: #ff8787; --bar: #ff922b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { background: var(--card); border-bottom: 1px solid var(--line); padding: 10px 16px; }
header .brand { font-weight: 700; margin-right: 12px; }
header .who { float: right; color: var(--muted); font-size: 13px; }
nav { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--muted); text-decoration: none; padding: 2px 0; }
nav a[aria-current="page"] { color: var(--accent); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { max-width: 960px; margin: 0 auto; padding: 12px 16px 40px; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 12px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.log { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 70vh; overflow-y: auto; }
.muted { color: var(--muted); }
.ok { color: var(--ok); }
.bad { color: var(--bad); }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; border: 1px solid var(--line); font-size: 13px; }
.flash { border-left: 4px solid var(--ok); }
.flash.failed { border-left-color: var(--bad); }
.flash pre { white-space: pre-wrap; margin: 6px 0 0; font: inherit; }
.flash pre code { background: var(--bg); padding: 0 3px; border-radius: 3px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
ul.items { list-style: none; padding: 0; margin: 0; }
ul.items > li { border-top: 1px solid var(--line); padding: 10px 0; }
ul.items > li:first-child { border-top: 0; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain > li { margin-bottom: 4px; }
.buttons { margin-top: 6px; display: flex; gap: 8px; }
code.big { font-size: 16px; letter-spacing: 1px; }
.platform { border-top: 1px solid var(--line); }
.platform:first-of-type { border-top: 0; }
.small { font-size: 12px; }
form.inline { display: inline; margin: 0 4px 0 0; }
form.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
input[type=text] { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; min-width: 14em; background: var(--card); color: var(--fg); }
button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); }
figure.chart { margin: 8px 0 16px; }
figure.chart figcaption { color: var(--muted); font-size: 13px; margin-bottom: 4px; }
figure.chart svg { width: 100%; height: auto; max-height: 140px; }
svg .bar { fill: var(--bar); }
svg .axis { stroke: var(--line); }
svg text { fill: var(--muted); font-size: 10px; }
@media (max-width: 520px) { dl.facts { grid-template-columns: 1fr; gap: 0 0; } dl.facts dd { margin-bottom: 6px; } header .who { float: none; display: block; } }
`;
