/**
 * Markdown to Slack. Native streams (`chat.startStream`/`appendStream`) take Markdown as it is
 * (`markdown_text`), so only the post-and-edit path converts: `chat.postMessage`/`chat.update`
 * get mrkdwn in `text`, which every Slack client renders and which doubles as notification text.
 */

/** Slack's own limit for `markdown_text` in one call, and a safe size for one streamed message. */
export const SLACK_MARKDOWN_LIMIT = 12_000;
/** Slack truncates `text` past 40,000 characters and advises staying under 4,000. */
export const SLACK_TEXT_LIMIT = 4_000;

const FENCE = /^\s*(```|~~~)/;
/** Slack's own angle-bracket syntax that must survive escaping: mentions, channels, specials. */
const SLACK_TOKEN = /<(?:[@#][A-Z0-9]+(?:\|[^>]*)?|![a-z^][^>]*)>/g;

export function markdownToMrkdwn(markdown: string): string {
  let inFence = false;
  const lines = markdown.split("\n").map((line) => {
    if (FENCE.test(line)) {
      inFence = !inFence;
      // Slack's fences take no language tag.
      return line.replace(/^(\s*)(```|~~~)\S*\s*$/, "$1```");
    }
    return inFence ? line : convertLine(line);
  });
  return lines.join("\n");
}

function convertLine(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading) return heading[1] ? `*${convertInline(heading[1]).replace(/^\*(.*)\*$/, "$1")}*` : "";
  const quote = /^(\s*)>\s?(.*)$/.exec(line);
  if (quote) return `${quote[1]}> ${convertLine(quote[2] ?? "")}`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet && !/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return `${bullet[1]}• ${convertInline(bullet[2] ?? "")}`;
  return convertInline(line);
}

/** Convert everything outside inline code spans. */
function convertInline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : convertProse(part)))
    .join("");
}

const BOLD = "\u0001";

function convertProse(text: string): string {
  const kept: string[] = [];
  const keep = (token: string) => `\u0002${kept.push(token) - 1}\u0002`;
  let out = text.replace(SLACK_TOKEN, keep);
  // Links and images become <url|text>, protected from the escaping below.
  out = out.replace(/!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (_m, label: string, url: string) =>
    keep(label ? `<${escapeUrl(url)}|${escapeText(label).replace(/\|/g, "¦")}>` : `<${escapeUrl(url)}>`),
  );
  out = out.replace(/<(https?:\/\/[^>\s]+)>/g, (_m, url: string) => keep(`<${escapeUrl(url)}>`));
  out = escapeText(out);
  out = out
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/__(?=\S)(.+?)(?<=\S)__/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])/g, "$1_$2_")
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "~$1~")
    .replaceAll(BOLD, "*");
  return out.replace(/\u0002(\d+)\u0002/g, (_m, i: string) => kept[Number(i)] ?? "");
}

/** Slack's three control characters, as the entities it asks for. */
export function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeUrl(url: string): string {
  return url.replace(/&/g, "&amp;").replace(/</g, "%3C").replace(/>/g, "%3E").replace(/\|/g, "%7C");
}
