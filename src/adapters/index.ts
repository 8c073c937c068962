/** The adapters this relay serves. Adding a platform means adding it here and nowhere else. */
import { discordAdapter } from "./discord";
import { slackAdapter } from "./slack";
import { telegramAdapter } from "./telegram";
import type { Adapter } from "./types";

export const adapters: readonly Adapter[] = [slackAdapter, telegramAdapter, discordAdapter];

export function adapterFor(platform: string): Adapter {
  const adapter = adapters.find((candidate) => candidate.platform === platform);
  if (!adapter) throw new Error(`no adapter for platform "${platform}"`);
  return adapter;
}
