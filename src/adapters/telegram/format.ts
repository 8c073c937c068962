/**
 * Markdown to Telegram HTML (`parse_mode: "HTML"`). Telegram accepts a handful of tags and wants
 * `&`, `<` and `>` escaped everywhere else; one stray `<` makes it refuse the whole message with
 * "can't parse entities". So: escape everything first, then add only tags we balance ourselves,
 * and check the balance at the end. If Telegram still refuses, the sender resends the Markdown as
 * plain text (`isEntityParseError`), so a reply is never lost to formatting.
 */
import { PlatformApiError } from "../../errors";

/** Telegram's limit for one message's text, after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4_096;

const FENCE = /^\s*(```|~~~)\s*([\w+#.-]*)/;
const HOLD = "\u0002";

export function markdownToTelegramHtml(markdown: string): string {
  const out: string[] = [];
  let fence: { lang: string; lines: string[] } | null = null;
  let quote: string[] = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.join("\n")}</blockquote>`);
    quote = [];
  };
  for (const line of markdown.split("\n")) {
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (fenceMatch && !fenceMatch[2]) {
        out.push(codeBlock(fence.lang, fence.lines));
        fence = null;
      } else fence.lines.push(line);
      continue;
    }
    if (fenceMatch) {
      flushQuote();
      fence = { lang: fenceMatch[2] ?? "", lines: [] };
      continue;
    }
    const quoted = /^\s{0,3}>\s?(.*)$/.exec(line);
    if (quoted) {
      quote.push(convertLine(quoted[1] ?? ""));
      continue;
    }
    flushQuote();
    out.push(convertLine(line));
  }
  flushQuote();
  // An answer cut off inside a code block still shows as code.
  if (fence) out.push(codeBlock(fence.lang, fence.lines));
  const html = out.join("\n");
  return isBalanced(html) ? html : escapeHtml(markdown);
}

function codeBlock(lang: string, lines: string[]): string {
  const body = escapeHtml(lines.join("\n"));
  const safeLang = lang.replace(/[^\w+#-]/g, "");
  return safeLang ? `<pre><code class="language-${safeLang}">${body}</code></pre>` : `<pre>${body}</pre>`;
}

function convertLine(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading) return heading[1] ? `<b>${convertInline(heading[1].replace(/^\*\*(.*)\*\*$/, "$1"))}</b>` : "";
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet && !/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return `${bullet[1]}• ${convertInline(bullet[2] ?? "")}`;
  return convertInline(line);
}

/** Inline Markdown: code spans and links are held aside, the rest escaped, then emphasis added. */
function convertInline(text: string): string {
  const held: string[] = [];
  const hold = (html: string) => `${HOLD}${held.push(html) - 1}${HOLD}`;
  let out = text.replace(/`([^`]+)`/g, (_m, code: string) => hold(`<code>${escapeHtml(code)}</code>`));
  out = out.replace(/!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (whole, label: string, url: string) => {
    if (!/^(https?:|tg:|mailto:)/i.test(url)) return whole;
    return hold(`<a href="${escapeAttribute(url)}">${escapeHtml(label || url)}</a>`);
  });
  out = escapeHtml(out);
  // Emphasis never spans a tag (`[^<]`), so whatever the input, the tags nest.
  out = out
    .replace(/\*\*(?=\S)([^<]+?)(?<=\S)\*\*/g, "<b>$1</b>")
    .replace(/(^|[^\w])__(?=\S)([^<]+?)(?<=\S)__(?!\w)/g, "$1<b>$2</b>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*<]+?)(?<=[^\s*])\*(?![*\w])/g, "$1<i>$2</i>")
    .replace(/(^|[^\w])_(?=[^\s_])([^_<]+?)(?<=[^\s_])_(?!\w)/g, "$1<i>$2</i>")
    .replace(/~~(?=\S)([^~<]+?)(?<=\S)~~/g, "<s>$1</s>");
  return out.replace(new RegExp(`${HOLD}(\\d+)${HOLD}`, "g"), (_m, i: string) => held[Number(i)] ?? "");
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, "&quot;");
}

/** Every tag closed, in order. A safety net: the conversion above should never fail it. */
export function isBalanced(html: string): boolean {
  const open: string[] = [];
  for (const match of html.matchAll(/<(\/?)([a-z-]+)[^>]*>/g)) {
    const [, closing, name] = match;
    if (!closing) open.push(name!);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}

/** Telegram refused the markup itself ("Bad Request: can't parse entities: ..."). */
export function isEntityParseError(error: unknown): boolean {
  return error instanceof PlatformApiError && error.status === 400 && /can't parse entities|can't find end/i.test(error.code);
}
