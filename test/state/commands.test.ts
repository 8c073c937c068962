/**
 * The persistence commands over the HTTP admin surface. Here the gateway runs elsewhere
 * (`GATEWAY_URL`), so nothing of its state is kept by the relay, and the commands say so; the
 * Sandbox mode's behaviour is in test/sandbox/persistence.test.ts.
 */
import { describe, expect, it } from "vitest";
import { adminRequest } from "../support/access-token";

type Result = { ok: boolean; text: string; data?: Record<string, unknown> };
const json = async (response: Response) => (await response.json()) as Result;

describe("persistence commands over HTTP", () => {
  it("lists no snapshots, and checks restore's argument", async () => {
    const backups = await adminRequest("/admin/commands/backups", { body: {} });
    expect(backups.status).toBe(200);
    expect(await json(backups)).toMatchObject({ ok: true, text: "No snapshots yet.", data: { snapshots: [] } });

    expect((await adminRequest("/admin/commands/restore", { body: {} })).status).toBe(400);
    expect((await adminRequest("/admin/commands/restore", { body: { args: ["latest"] } })).status).toBe(400);
    expect((await adminRequest("/admin/commands/backup", { body: { args: ["--everything"] } })).status).toBe(400);
    const restore = await json(await adminRequest("/admin/commands/restore", { body: { args: ["3"] } }));
    expect(restore.ok).toBe(false);
    expect(restore.text).toMatch(/runs elsewhere/);
  });

  it("shows in /molt status why nothing is kept", async () => {
    const status = await json(await adminRequest("/admin/status"));
    expect(status.text).toMatch(/\*Backup:\* off: the gateway runs elsewhere/);
    expect(status.data!.state).toMatchObject({ configured: false });
  });
});
