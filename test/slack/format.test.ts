import { describe, expect, it } from "vitest";
import { markdownToMrkdwn } from "../../src/adapters/slack/format";
import { splitText } from "../../src/adapters/split";

describe("markdownToMrkdwn", () => {
  it("maps bold, italics, strikethrough and links", () => {
    expect(markdownToMrkdwn("**bold** and *italic* and _also_ and ~~gone~~")).toBe("*bold* and _italic_ and _also_ and ~gone~");
    expect(markdownToMrkdwn("__bold__ too")).toBe("*bold* too");
    expect(markdownToMrkdwn("see [the docs](https://example.com/a?b=1&c=2) now")).toBe(
      "see <https://example.com/a?b=1&amp;c=2|the docs> now",
    );
    expect(markdownToMrkdwn("![a cat](https://example.com/cat.png)")).toBe("<https://example.com/cat.png|a cat>");
    expect(markdownToMrkdwn("<https://example.com>")).toBe("<https://example.com>");
  });

  it("turns headings into bold lines and bullets into •", () => {
    expect(markdownToMrkdwn("# Title\n## Sub **part**\n- one\n* two\n  - nested")).toBe(
      "*Title*\n*Sub *part**\n• one\n• two\n  • nested",
    );
  });

  it("escapes &, < and > outside code, keeping Slack mentions and quotes", () => {
    expect(markdownToMrkdwn("a < b && c > d, ask <@U0ALICE> or <!here>")).toBe(
      "a &lt; b &amp;&amp; c &gt; d, ask <@U0ALICE> or <!here>",
    );
    expect(markdownToMrkdwn("> quoted **words** & more")).toBe("> quoted *words* &amp; more");
  });

  it("leaves code spans and fenced blocks alone, dropping the fence's language tag", () => {
    expect(markdownToMrkdwn("run `a **b** <c>` now")).toBe("run `a **b** <c>` now");
    const fenced = "Here:\n```ts\nconst x = a < b && **c**;\n# not a heading\n```\n**after**";
    expect(markdownToMrkdwn(fenced)).toBe("Here:\n```\nconst x = a < b && **c**;\n# not a heading\n```\n*after*");
  });

  it("keeps horizontal rules and multiplication-like stars intact", () => {
    expect(markdownToMrkdwn("---")).toBe("---");
    expect(markdownToMrkdwn("2 * 3 * 4")).toBe("2 * 3 * 4");
  });
});

describe("splitting long answers for Slack", () => {
  const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum ".repeat(30).trim()}.`);
  const answer = `${paragraphs.slice(0, 20).join("\n\n")}\n\n\`\`\`python\n${"print('x')\n".repeat(400)}\`\`\`\n\n${paragraphs.slice(20).join("\n\n")}`;

  it("splits within the limit without losing a word, closing and reopening code fences", () => {
    const chunks = splitText(answer, 4000);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(4000);
    const joined = chunks.join("\n");
    for (const paragraph of paragraphs) expect(joined).toContain(paragraph);
    expect(joined.match(/print\('x'\)/g)).toHaveLength(400);
    for (const chunk of chunks) expect((chunk.match(/```/g) ?? []).length % 2).toBe(0);
    // Each piece still converts cleanly: fences stay fences in mrkdwn.
    for (const chunk of chunks.map(markdownToMrkdwn)) expect((chunk.match(/```/g) ?? []).length % 2).toBe(0);
  });
});
