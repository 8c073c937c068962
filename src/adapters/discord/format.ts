/**
 * Markdown to Discord's Markdown. Discord renders most of what the agent writes as it is (bold,
 * italics, strikethrough, code, fenced blocks, `#`-`###` headings, lists, quotes, masked links),
 * so the mapping is small: what Discord reads differently or not at all is rewritten.
 * - `__bold__` is underline on Discord: it becomes `**bold**`.
 * - `####`-`######` headings don't render: they become bold lines.
 * - Images `![alt](url)` become links; tables (which Discord shows as raw pipes) go in a code block
 *   so their columns line up; a horizontal rule becomes a line of box-drawing characters.
 * Code blocks and spans are left exactly as they are. Mentions never ping: every message is sent
 * with `allowed_mentions: {parse: []}` (see reply.ts), so `@everyone` in an answer stays text.
 */

/** Discord's limit for one message's content. */
export const DISCORD_TEXT_LIMIT = 2_000;

const FENCE = /^\s*(```|~~~)/;

export function markdownToDiscord(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split("\n");
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE.test(line)) {
      inFence = !inFence;
      out.push(line);
      continue;
    }
    if (inFence) {
      out.push(line);
      continue;
    }
    if (isTableRow(line) && isTableRow(lines[i + 1] ?? "") && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1] ?? "")) {
      const table: string[] = [];
      while (i < lines.length && isTableRow(lines[i]!)) table.push(lines[i++]!);
      i--;
      out.push("```", ...table, "```");
      continue;
    }
    out.push(convertLine(line));
  }
  return out.join("\n");
}

function isTableRow(line: string): boolean {
  return /^\s*\|.*\|\s*$/.test(line);
}

function convertLine(line: string): string {
  const heading = /^\s{0,3}(#{4,6})\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading) return heading[2] ? `**${heading[2].replace(/^\*\*(.*)\*\*$/, "$1")}**` : "";
  if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return "──────────";
  return convertInline(line);
}

function convertInline(text: string): string {
  // Code spans are held aside so nothing inside them changes.
  const held: string[] = [];
  let out = text.replace(/`[^`]+`/g, (code) => `\u0002${held.push(code) - 1}\u0002`);
  out = out
    .replace(/!\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (_m, alt: string, url: string) => `[${alt || "image"}](${url})`)
    .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, "$1**$2**");
  return out.replace(/\u0002(\d+)\u0002/g, (_m, i: string) => held[Number(i)] ?? "");
}
