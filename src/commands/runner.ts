/**
 * Runs one `/molt` command that came from chat, in a Durable Object of its own, from its alarm.
 *
 * Platforms want an answer within ~3 s. A command done by then is answered in the platform's
 * acknowledgement; one still running (a restart takes ~30 s) is acknowledged with "working on
 * it", and the runner posts its result when it is done. Running it from the object's alarm rather
 * than from the Worker's `waitUntil` matters: `waitUntil` ends ~30 s after the response, which a
 * restart can outlast, and its result would be lost. A command is never run twice: if the object
 * is interrupted mid-command, the user is told the result is unknown instead.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterFor } from "../adapters";
import type { CommandReply, ReplyTarget } from "../adapters/types";
import type { Env } from "../env";
import { type CommandMedia, type Invocation, runCommand } from "./registry";
import { isAdmin } from "../policy/admission";
import { stateKeeper } from "../sandbox/state-keeper";

export interface CommandJob {
  invocation: Invocation;
  /** Where a late result goes. */
  reply: ReplyTarget;
}

type Stored = CommandJob & { state: "queued" | "running" };

export class CommandRunner extends DurableObject<Env> {
  /** Set while the chat request still waits for the result: it gets it instead of a post. */
  private waiting: ((reply: CommandReply) => void) | undefined;

  /** Start the job; resolves with its result if it is done within `ackMs`, else with null (it is posted later). */
  async run(job: CommandJob, ackMs: number): Promise<CommandReply | null> {
    // Listen before the alarm is set: a quick command may finish before this method goes on.
    const done = new Promise<CommandReply>((resolve) => (this.waiting = resolve));
    await this.ctx.storage.put<Stored>("job", { ...job, state: "queued" });
    await this.ctx.storage.setAlarm(Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([done, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ackMs)))]);
    clearTimeout(timer);
    // From here on, the alarm posts the result.
    this.waiting = undefined;
    return result;
  }

  override async alarm(): Promise<void> {
    const job = await this.ctx.storage.get<Stored>("job");
    if (!job) return;
    if (job.state === "running") {
      // Interrupted mid-command (the object was restarted): running it again could repeat its effect.
      await this.post(job, { ok: false, title: job.invocation.name, text: `The result of \`/molt ${job.invocation.name}\` was lost. Check with \`/molt status\`.` });
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.put<Stored>("job", { ...job, state: "running" });
    // Notices about the agent's state (a failed restore) go to the chats admins use.
    if (isAdmin(this.env, job.invocation.actor)) await stateKeeper(this.env).rememberAdmin(job.reply).catch(() => undefined);
    const { result } = await runCommand(this.env, job.invocation);
    const reply = { ok: result.ok, title: result.title, text: result.text };
    if (this.waiting) this.waiting(reply);
    else await this.post(job, reply);
    if (result.media?.length) await this.postMedia(job, result.media);
    await this.ctx.storage.deleteAll();
  }

  /** Files a command made (a screenshot): uploaded to the conversation after its text. */
  private async postMedia(job: CommandJob, media: CommandMedia[]): Promise<void> {
    const sink = adapterFor(job.reply.platform).openReply(this.env, job.reply);
    for (const item of media) {
      const bucket = this.env.MEDIA;
      await sink
        .postMedia({
          ...item,
          async open() {
            const object = await bucket.get(item.key);
            if (!object) throw new Error(`media ${item.key} is gone from the bucket`);
            return object.body;
          },
        })
        .catch((error) => console.error(`media of /molt ${job.invocation.name}:`, error instanceof Error ? error.message : String(error)));
    }
  }

  private async post(job: CommandJob, reply: CommandReply): Promise<void> {
    try {
      await adapterFor(job.reply.platform)
        .openReply(this.env, job.reply)
        .postNotice(`**${reply.title}**\n${reply.text}`, reply.ok ? "info" : "error");
    } catch (error) {
      console.error(`late result of /molt ${job.invocation.name}:`, error instanceof Error ? error.message : String(error));
    }
  }
}

/** A runner of its own for one command. */
export function commandRunner(env: Env) {
  return env.COMMANDS.get(env.COMMANDS.newUniqueId());
}
