/**
 * The agent's primary model (`agents.defaults.model.primary`), read and set over the gateway's
 * config RPC. The gateway hot-applies it for every conversation without a restart. It does not
 * check the name, so it is checked here against `models.list` first.
 */
import type { GatewayClient } from "../gateway/client";
import { gatewaySupervisor } from "../sandbox/supervisor";
import { withGateway } from "./gateway";
import type { Command } from "./registry";

interface ModelEntry {
  id: string;
  provider: string;
  name?: string;
}

export const modelCommand: Command = {
  name: "model",
  usage: "/molt model [provider/model]",
  help: "Show the agent's primary model and the models it can use, or set the primary model for every conversation.",
  admin: true,
  async run({ env, args }) {
    const wanted = args[0];
    return withGateway(env, async (client) => {
      const [models, config] = await Promise.all([listModels(client), client.request<ConfigSnapshot>("config.get", {})]);
      const current = config.parsed?.agents?.defaults?.model?.primary;
      const available = models.map((model) => `${model.provider}/${model.id}`);
      if (!wanted) {
        const list = available.map((name) => `• \`${name}\`${name === current ? " (primary)" : ""}`).join("\n");
        return { ok: true, title: "Model", text: `*Primary:* \`${current ?? "OpenClaw's default"}\`\n${list}`, data: { primary: current ?? null, available } };
      }
      const match = resolve(wanted, models);
      if (!match) {
        return { ok: false, title: "Model", text: `No model \`${wanted}\` on the gateway. Available: ${available.map((name) => `\`${name}\``).join(", ")}.`, data: { available } };
      }
      await client.request("config.patch", {
        raw: JSON.stringify({ agents: { defaults: { model: { primary: match } } } }),
        baseHash: config.hash,
        note: "molt-relay: /molt model",
      });
      // Remembered by the supervisor, so the start of the next gateway applies it again.
      await gatewaySupervisor(env).setPrimaryModel(match);
      return {
        ok: true,
        title: "Model",
        text: `The primary model is now \`${match}\` for every conversation (it was \`${current ?? "OpenClaw's default"}\`). It is kept, and used again when the gateway restarts or the container wakes.`,
        audit: `primary ${match}`,
        data: { primary: match, previous: current ?? null },
      };
    });
  },
};

interface ConfigSnapshot {
  hash?: string;
  parsed?: { agents?: { defaults?: { model?: { primary?: string } } } };
}

async function listModels(client: GatewayClient): Promise<ModelEntry[]> {
  const result = await client.request<{ models?: ModelEntry[] }>("models.list", {});
  return (result.models ?? []).filter((model) => typeof model.id === "string" && typeof model.provider === "string");
}

/** `provider/id` exactly, or a bare id that only one provider has. */
function resolve(wanted: string, models: ModelEntry[]): string | undefined {
  const lower = wanted.toLowerCase();
  const exact = models.find((model) => `${model.provider}/${model.id}`.toLowerCase() === lower);
  if (exact) return `${exact.provider}/${exact.id}`;
  const byId = models.filter((model) => model.id.toLowerCase() === lower);
  return byId.length === 1 ? `${byId[0]!.provider}/${byId[0]!.id}` : undefined;
}
