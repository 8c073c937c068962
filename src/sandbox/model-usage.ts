/**
 * Counting the agent's model calls without their content: a stream transform that passes every
 * chunk on at once and only looks for token counts (OpenAI's `usage`, Anthropic's `usage` in
 * `message_start` / `message_delta`), and the daily totals the supervisor keeps for `/molt status`.
 */

export interface ModelCall {
  provider: string;
  model?: string;
  status: number;
  durationMs: number;
  inputTokens?: number;
  outputTokens?: number;
}

export interface UsageTotals {
  day: string;
  calls: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
}

const MAX_SCAN = 64 * 1024;

/** Pass the answer through untouched; when it ends, report the token counts it carried. */
export function meterUsage(streaming: boolean, report: (usage: Partial<ModelCall>) => Promise<unknown>): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let tail = "";
  let whole = "";
  const usage: Partial<ModelCall> = {};
  const scan = (text: string) => {
    for (const line of text.split("\n")) {
      const data = line.startsWith("data:") ? line.slice(5).trim() : "";
      if (data && data !== "[DONE]") readUsage(data, usage);
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      const text = decoder.decode(chunk, { stream: true });
      if (streaming) {
        const lines = (tail + text).split("\n");
        tail = lines.pop() ?? "";
        if (tail.length > MAX_SCAN) tail = "";
        scan(lines.join("\n"));
      } else if (whole.length < MAX_SCAN) whole += text;
    },
    async flush() {
      if (streaming) scan(tail);
      else readUsage(whole, usage);
      await report(usage);
    },
  });
}

function readUsage(json: string, into: Partial<ModelCall>): void {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return;
  }
  const event = value as { usage?: Record<string, unknown>; message?: { usage?: Record<string, unknown> } };
  for (const usage of [event.usage, event.message?.usage]) {
    if (!usage) continue;
    const input = usage.prompt_tokens ?? usage.input_tokens;
    const output = usage.completion_tokens ?? usage.output_tokens;
    if (typeof input === "number" && input > 0) into.inputTokens = input;
    if (typeof output === "number") into.outputTokens = output;
  }
}

export function today(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function addCall(totals: UsageTotals | undefined, call: ModelCall, day: string): UsageTotals {
  const base = totals?.day === day ? totals : { day, calls: 0, failed: 0, inputTokens: 0, outputTokens: 0 };
  return {
    day,
    calls: base.calls + 1,
    failed: base.failed + (call.status >= 400 ? 1 : 0),
    inputTokens: base.inputTokens + (call.inputTokens ?? 0),
    outputTokens: base.outputTokens + (call.outputTokens ?? 0),
  };
}
