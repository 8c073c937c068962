// A V8 CPU profile of the Worker's isolate over workerd's inspector (one target per service, named
// after it), boiled down to where the time went: self time per function, and inclusive time of a
// few named ones.
const WATCH = [
  "fetch", "receive", "verifySlackRequest", "admitMessage", "admit", "accept", "alarm", "runTurn",
  "ConversationObject", "PolicyObject", "GatewaySupervisor", "parseSlackEvents", "dispatch",
];

export async function startProfile(inspectorPort, target = "molt-relay") {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/${target}`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  return {
    async stop() {
      const { result } = await call("Profiler.stop");
      ws.close();
      return summarizeProfile(result.profile);
    },
  };
}

function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  const dt = profile.timeDeltas;
  profile.samples.forEach((leaf, i) => {
    const ms = (dt[i + 1] ?? dt[i] ?? 0) / 1000;
    total += ms;
    const node = nodes.get(leaf);
    const name = label(node);
    if (name === "(idle)") {
      idle += ms;
      return;
    }
    self.set(name, (self.get(name) ?? 0) + ms);
    const seen = new Set();
    for (let id = leaf; id !== undefined; id = parent.get(id)) {
      const fn = nodes.get(id).callFrame.functionName;
      if (WATCH.includes(fn) && !seen.has(fn)) {
        seen.add(fn);
        inclusive.set(fn, (inclusive.get(fn) ?? 0) + ms);
      }
    }
  });
  const busy = total - idle;
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return {
    totalMs: total,
    busyMs: busy,
    self: top.map(([name, t]) => ({ name, ms: t, share: t / busy })),
    inclusive: Object.fromEntries([...inclusive.entries()].map(([k, v]) => [k, { ms: v, share: v / busy }])),
  };
}

function label(node) {
  const f = node.callFrame;
  if (f.functionName.startsWith("(")) return f.functionName;
  const file = f.url ? f.url.split("/").pop() : "native";
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
}
