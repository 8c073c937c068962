/**
 * Bindings and configuration. Everything the Worker reads from its environment is named here;
 * nothing else reads `env` by string.
 */
import type { Sandbox } from "@cloudflare/sandbox";
import type { ConversationObject } from "./bridge/conversation-object";
import type { IntakeObject } from "./bridge/intake-object";
import type { ListenerObject } from "./bridge/listener-object";
import type { CommandRunner } from "./commands/runner";
import type { PolicyObject } from "./policy/policy-object";
import type { BrowserSession } from "./sandbox/browser-session";
import type { GatewaySupervisor } from "./sandbox/supervisor";
import type { UsageObject } from "./sandbox/usage-object";
import type { StateKeeper } from "./sandbox/state-keeper";

export interface Env {
  /** Where messages wait between the platform's acknowledgement and their bridge (a few shards). */
  INTAKE: DurableObjectNamespace<IntakeObject>;
  /** One object per `/molt` command from chat: it runs the command and posts a late result. */
  COMMANDS: DurableObjectNamespace<CommandRunner>;
  /** One bridge per conversation. */
  CONVERSATIONS: DurableObjectNamespace<ConversationObject>;
  /** The one object that starts, watches and restarts the gateway. */
  GATEWAY: DurableObjectNamespace<GatewaySupervisor>;
  /** DM policy, pairing requests, allowlists and the audit log (one per deployment). */
  POLICY: DurableObjectNamespace<PolicyObject>;
  /** The OpenClaw container (`@cloudflare/sandbox`). Keep this name: `proxyToSandbox` reads it. */
  Sandbox: DurableObjectNamespace<Sandbox>;
  /** Screenshots, videos and files the agent made. */
  MEDIA: R2Bucket;
  /** Browser Rendering, for the agent's browser. */
  BROWSER?: Fetcher;
  /** The usage ledger: awake time, turns, browser time (for the console's cost view). */
  USAGE: DurableObjectNamespace<UsageObject>;
  /** The Durable Objects that hold platform connections open (a chat Gateway), one per platform. */
  LISTENERS: DurableObjectNamespace<ListenerObject>;
  /** The agent's one Browser Rendering session; its CDP sockets are relayed through it. */
  BROWSER_SESSION: DurableObjectNamespace<BrowserSession>;
  /**
   * Local dev only (`npm run dev` sets it): serve the agent's browser at `/__dev/browser` for a
   * gateway on this machine, to loopback requests only. Never set it on a deployment.
   */
  DEV_BROWSER_ROUTE?: string;
  /** The agent's state: snapshots (write-new-only) and their pointer's keeper. Unset: nothing is kept. */
  STATE?: R2Bucket;
  STATE_KEEPER: DurableObjectNamespace<StateKeeper>;

  /** Shared secret of the OpenClaw gateway (required). */
  GATEWAY_TOKEN: string;
  /** ws:// or wss:// URL of a gateway that runs elsewhere; unset means the Sandbox container. */
  GATEWAY_URL?: string;
  /** Idle time before the container sleeps, e.g. `10m` (default) or `1h`. */
  SANDBOX_SLEEP_AFTER?: string;
  /**
   * Model provider keys and settings. The keys stay in the Worker: the container calls its model
   * through `http://llm.internal/...`, and the Worker adds the key (src/sandbox/llm-egress.ts).
   */
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
  AI_GATEWAY_BASE_URL?: string;
  MODEL?: string;
  /** Origin the Worker is served from, for links to media that could not be uploaded. */
  PUBLIC_URL?: string;

  SLACK_SIGNING_SECRET?: string;
  SLACK_BOT_TOKEN?: string;
  /** Defaults to https://slack.com/api/; tests and the local emulator point it elsewhere. */
  SLACK_API_URL?: string;

  TELEGRAM_BOT_TOKEN?: string;
  /** The `secret_token` given to `setWebhook`; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  TELEGRAM_WEBHOOK_SECRET?: string;
  /** Defaults to https://api.telegram.org; tests and the local emulator point it elsewhere. */
  TELEGRAM_API_URL?: string;
  /** The bot's @username (without @), for mentions in groups; `npm run setup` prints it. */
  TELEGRAM_BOT_USERNAME?: string;
  /** Which group messages reach the agent: `mention` (default: mentions and replies to the bot), `all`, `off`. */
  TELEGRAM_GROUP_MODE?: string;

  /** The application's id, public key (hex, for interaction signatures) and bot token (Developer Portal). */
  DISCORD_APPLICATION_ID?: string;
  DISCORD_PUBLIC_KEY?: string;
  DISCORD_BOT_TOKEN?: string;
  /** Defaults to https://discord.com/api/v10; tests and the local emulator point it elsewhere (the Gateway URL comes from it). */
  DISCORD_API_URL?: string;
  /** `true`: ask the Gateway for the privileged MESSAGE_CONTENT intent (mentions and DMs carry their text without it). */
  DISCORD_MESSAGE_CONTENT?: string;

  /** Who may run admin commands: comma-separated `platform:userId` (`slack:U123`, `access:alice@example.com`). */
  ADMINS?: string;
  /** Cloudflare Access team domain (`myteam.cloudflareaccess.com`), or a full origin for local tests. Unset: /admin is closed. */
  ACCESS_TEAM_DOMAIN?: string;
  /** The Access application's AUD tag. Unset: /admin is closed. */
  ACCESS_AUD?: string;
  /** DM policy: `pairing` (default), `allowlist` or `open`; or per platform: `slack:open,telegram:pairing`. */
  DM_POLICY?: string;
  /** Cloudflare AI Gateway token (`cf-aig-authorization`), for an authenticated gateway. */
  AI_GATEWAY_TOKEN?: string;
  /** An OpenAI-compatible provider (`molt/<OPENAI_COMPATIBLE_MODEL>`): base URL and its key. */
  OPENAI_COMPATIBLE_BASE_URL?: string;
  OPENAI_COMPATIBLE_API_KEY?: string;
  OPENAI_COMPATIBLE_MODEL?: string;
  /** `1` under `npm run dev` only: the local gateway reaches its model through /_dev/llm/ on loopback. */
  DEV_LLM_ROUTE?: string;
}
