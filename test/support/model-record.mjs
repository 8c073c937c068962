/**
 * The stand-in model's "record a video of <url>", as an agent would do it with the relay's
 * `browser-video` skill: find the skill where OpenClaw lists it in the system prompt
 * (`<available_skills>`: name, location of its SKILL.md), run its record.mjs with the `exec` tool
 * (directly, or through OpenClaw's Tool Search), then end the reply with the `MEDIA:` line the
 * script printed.
 */

const textOf = (content) => (typeof content === "string" ? content : Array.isArray(content) ? content.map((p) => (typeof p === "string" ? p : p?.text ?? "")).join("\n") : "");

/** The skill's directory, from the skills catalog in the system prompt; undefined when not listed. */
export function skillDir(messages, name) {
  const prompt = messages.filter((m) => m?.role === "system" || m?.role === "developer").map((m) => textOf(m.content)).join("\n");
  for (const [, skill] of prompt.matchAll(/<skill>([\s\S]*?)<\/skill>/g)) {
    if (/<name>([^<]*)<\/name>/.exec(skill)?.[1] !== name) continue;
    const location = /<location>([^<]*)<\/location>/.exec(skill)?.[1];
    return location?.replace(/&amp;/g, "&").replace(/\/SKILL\.md$/, "");
  }
  return undefined;
}

/**
 * One step of the turn. `results`: the tool results since the user's message, oldest first.
 * A short, small recording: the test machine is slow, and the point is the path, not the film.
 */
export function planRecord(url, body, messages, results, state) {
  const offered = (body.tools ?? []).map((t) => t?.function?.name);
  const direct = offered.includes("exec");
  if (!direct && !offered.includes("tool_call")) return { text: `No exec tool was offered (tools: ${offered.join(", ")}).`, chunks: 1, delayMs: 0 };
  const dir = skillDir(messages, "browser-video");
  if (!dir) return { text: "No browser-video skill was offered.", chunks: 1, delayMs: 0 };
  if (results.length === 0) {
    const args = {
      command: `node ${dir}/record.mjs --url '${url}' --seconds 2 --no-scroll --width 640 --height 360`,
      // Wait for it (up to the tool's limit) instead of having it moved to the background.
      yieldMs: 120_000,
      timeoutSeconds: 120,
    };
    return { toolCall: { id: `call_${++state.toolCalls}`, name: direct ? "exec" : "tool_call", args: direct ? args : { id: "exec", args } } };
  }
  const video = /MEDIA:([^\s"\\]+)/.exec(results.at(-1))?.[1];
  if (!video) return { text: `The recording failed: ${results.join(" | ").slice(0, 800)}`, chunks: 1, delayMs: 0 };
  return { text: `Here is the video of ${url}.\n\nMEDIA:${video}\n`, chunks: 2, delayMs: 10 };
}
