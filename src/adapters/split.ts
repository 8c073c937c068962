/**
 * Splitting a long Markdown answer into messages a platform accepts: at paragraph boundaries
 * first, then lines, then words. A fenced code block cut in two is closed at the end of one
 * message and reopened (with its language) at the start of the next. Nothing is dropped.
 */

const FENCE = /^\s*(```|~~~)/;
const CLOSE = "\n```";

export function splitText(text: string, max: number): string[] {
  if (max < 32) throw new RangeError("splitText: max is too small to be useful");
  if (text.length <= max) return [text];
  const chunks: string[] = [];
  let rest = text;
  let openFence: string | null = null;
  while (rest.length > 0) {
    const prefix = openFence ? `${openFence}\n` : "";
    if (prefix.length + rest.length <= max) {
      chunks.push(prefix + rest);
      break;
    }
    const budget = max - prefix.length - CLOSE.length;
    const cut = findCut(rest, budget);
    const piece = rest.slice(0, cut);
    rest = rest.slice(cut).replace(/^\n+/, "");
    const fence = fenceAfter(piece, openFence);
    const body = piece.replace(/\s+$/, "");
    chunks.push(prefix + body + (fence ? CLOSE : ""));
    openFence = fence;
  }
  return chunks.filter((chunk) => chunk.trim().length > 0);
}

/** Where to cut `text` so that the first part is at most `budget` characters. */
function findCut(text: string, budget: number): number {
  const window = text.slice(0, budget + 1);
  const paragraph = window.lastIndexOf("\n\n");
  if (paragraph > budget / 2) return paragraph;
  const line = window.lastIndexOf("\n");
  if (line > budget / 3) return line;
  const space = window.lastIndexOf(" ");
  if (space > budget / 3) return space + 1;
  return budget;
}

/** The fence still open after `piece`, given the one open before it (null: none). */
function fenceAfter(piece: string, open: string | null): string | null {
  let fence = open;
  for (const line of piece.split("\n")) {
    if (!FENCE.test(line)) continue;
    fence = fence ? null : line.trim();
  }
  return fence;
}
