/** Test helpers that other files rely on for isolation. */
import { describe, expect, it, vi } from "vitest";

describe("uniqueChatId", () => {
  it("gives different ids to files that start at the same moment", async () => {
    // Each test file loads the helper afresh: two copies of it, called in the same millisecond
    // and with the same Math.random luck, must still give different chats. (The clock and
    // Math.random are replaced only for these synchronous calls: nothing else runs meanwhile.)
    const load = (file: string): Promise<typeof import("./telegram-relay")> => import(/* @vite-ignore */ `./telegram-relay.ts?file=${file}`);
    const files = [await load("a"), await load("b")];
    const clock = vi.spyOn(Date, "now").mockReturnValue(1_764_000_000_000);
    const luck = vi.spyOn(Math, "random").mockReturnValue(0.5);
    let ids: number[];
    try {
      ids = files.flatMap((file) => [file.uniqueChatId(), file.uniqueChatId("group")]);
    } finally {
      clock.mockRestore();
      luck.mockRestore();
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.filter((id) => id > 0)) {
      expect(id).toBeGreaterThanOrEqual(1_000_000_000);
      expect(id).toBeLessThan(7_000_000_000);
    }
  });
});
