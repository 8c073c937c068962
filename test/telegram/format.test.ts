/**
 * Markdown to Telegram HTML, and splitting at 4,096: correct escaping whatever the input, tags
 * that always nest, and nothing dropped. The HTML is also checked by the Bot API emulator's
 * parser (the one that answers "can't parse entities"), through `emulatorCall`.
 */
import { describe, expect, it } from "vitest";
import { escapeHtml, isBalanced, markdownToTelegramHtml, TELEGRAM_TEXT_LIMIT } from "../../src/adapters/telegram/format";
import { splitText } from "../../src/adapters/split";
import { emulatorCall, telegramLimitsFor, uniqueChatId } from "../support/telegram-relay";

/** What Telegram's HTML parser would accept: only its tags, balanced, and no bare `<`, `>` or `&`. */
function acceptable(html: string): boolean {
  if (!isBalanced(html)) return false;
  const withoutTags = html.replace(/<\/?(b|i|s|u|code|pre|blockquote|a)(\s+(href|class)="[^"<>]*")?>/g, "");
  return !/[<>]/.test(withoutTags) && !/&(?!(lt|gt|amp|quot);)/.test(withoutTags);
}

describe("markdownToTelegramHtml", () => {
  it("converts the usual Markdown", () => {
    expect(markdownToTelegramHtml("# Title\n**bold** and *it* and _it_ and ~~gone~~ and `a<b`")).toBe(
      "<b>Title</b>\n<b>bold</b> and <i>it</i> and <i>it</i> and <s>gone</s> and <code>a&lt;b</code>",
    );
    expect(markdownToTelegramHtml("- one\n- two")).toBe("• one\n• two");
    expect(markdownToTelegramHtml("see [the docs](https://example.com/?a=1&b=\"2\")")).toBe(
      'see <a href="https://example.com/?a=1&amp;b=&quot;2&quot;">the docs</a>',
    );
    expect(markdownToTelegramHtml("> quoted\n> more\nafter")).toBe("<blockquote>quoted\nmore</blockquote>\nafter");
  });

  it("puts code blocks in <pre> with their language, escaped, untouched by emphasis", () => {
    expect(markdownToTelegramHtml("```ts\nconst a = b < c && **d**;\n```")).toBe(
      '<pre><code class="language-ts">const a = b &lt; c &amp;&amp; **d**;</code></pre>',
    );
    // Cut off inside a block (an answer still streaming): still code, still closed.
    expect(markdownToTelegramHtml("```\nunfinished <")).toBe("<pre>unfinished &lt;</pre>");
  });

  it("escapes <, > and & in prose and leaves an unbalanced * as it is", () => {
    expect(markdownToTelegramHtml("1 < 2 && 3 > 2")).toBe("1 &lt; 2 &amp;&amp; 3 &gt; 2");
    expect(markdownToTelegramHtml("2 * 3 = 6 and *unclosed")).toBe("2 * 3 = 6 and *unclosed");
    expect(markdownToTelegramHtml("<script>alert('x')</script>")).toBe("&lt;script&gt;alert('x')&lt;/script&gt;");
    expect(markdownToTelegramHtml("snake_case_name and __init__")).toBe("snake_case_name and <b>init</b>");
  });

  it("never links a javascript: URL", () => {
    expect(markdownToTelegramHtml("[x](javascript:alert(1))")).not.toContain("<a");
  });

  it("produces HTML Telegram accepts for hostile input", async () => {
    const hostile = [
      "**a *b** c*",
      "*a **b* c**",
      "<b>not a tag</b> & <i>",
      "`unclosed code and **bold",
      "[link](https://x.test/<>) **[b](https://y.test)**",
      "~~*_mixed_*~~ __*x*__ ***y***",
      "&amp; &lt; &#x41; & ;",
      "> quote with <tag> and *star",
      "```\n</pre><b>\n```\n*",
      "_a *b_ c*",
    ];
    for (const input of hostile) {
      const html = markdownToTelegramHtml(input);
      expect(acceptable(html), `${input} -> ${html}`).toBe(true);
    }
    // And the emulator's parser, which answers "can't parse entities" the way Telegram does, agrees.
    const chat = uniqueChatId();
    // Many sends in a row: the parser is under test here, not Telegram's pace.
    await telegramLimitsFor(chat, "off");
    for (const input of hostile) {
      const result = await emulatorCall("sendMessage", { chat_id: chat, text: markdownToTelegramHtml(input), parse_mode: "HTML" });
      expect(result.ok, `${input}: ${result.description}`).toBe(true);
    }
  });

  it("stays acceptable on random Markdown soup", () => {
    const alphabet = ["*", "**", "_", "__", "~~", "`", "<", ">", "&", "[", "]", "(", ")", "https://a.b", "\n", "# ", "> ", "- ", "```", "x", " ", "y z"];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 500; i++) {
      const input = Array.from({ length: 5 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const html = markdownToTelegramHtml(input);
      expect(acceptable(html), `${JSON.stringify(input)} -> ${html}`).toBe(true);
    }
  });

  it("escapes only what HTML needs", () => {
    expect(escapeHtml(`a<b>&"c'`)).toBe(`a&lt;b&gt;&amp;"c'`);
  });
});

describe("splitting at 4,096", () => {
  it("splits a long answer on paragraphs and code blocks, drops nothing, and every part converts", () => {
    const paragraph = (n: number) => `Paragraph ${n}: ${"lorem ipsum <dolor> & sit amet ".repeat(20)}`;
    const code = "```python\n" + Array.from({ length: 400 }, (_, i) => `print(${i} < ${i + 1})`).join("\n") + "\n```";
    const text = [paragraph(1), paragraph(2), code, ...Array.from({ length: 12 }, (_, i) => paragraph(i + 3))].join("\n\n");
    expect(text.length).toBeGreaterThan(3 * TELEGRAM_TEXT_LIMIT);
    const parts = splitText(text, TELEGRAM_TEXT_LIMIT);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
      expect(acceptable(markdownToTelegramHtml(part))).toBe(true);
    }
    // Every word survives, in order (fences re-opened at a cut are the only additions).
    const words = (s: string) => s.replace(/```\w*/g, " ").split(/\s+/).filter(Boolean);
    expect(words(parts.join("\n"))).toEqual(words(text));
  });
});
