/**
 * Actions: buttons for `/molt` commands. Each runs through the command registry, exactly as from
 * chat (same admin check, same audit log). Commands this deployment doesn't have (restore, before
 * persistence exists) don't get a button.
 */
import { findCommand } from "../../../commands/registry";
import { CommandButton, CommandForm } from "../layout";
import type { PageContext } from "./context";

export async function actionsPage({ token }: PageContext) {
  const has = (name: string) => findCommand(name) !== undefined;
  return (
    <>
      <section class="card">
        <h2>Gateway</h2>
        <p class="muted">Restarting takes about half a minute in the container; the page waits for it.</p>
        <CommandButton token={token} back="actions" command="restart" label="Restart the gateway" kind="danger" name="restart" />
      </section>
      <section class="card">
        <h2>Model</h2>
        <p class="muted">The primary model for every conversation. Listing or setting it wakes the agent.</p>
        <CommandButton token={token} back="actions" command="model" label="Show models" name="models" />
        <CommandForm token={token} back="actions" command="model" placeholder="provider/model" label="Set model" id="model" />
      </section>
      <section class="card">
        <h2>New session</h2>
        <p class="muted">A fresh agent session for one conversation (its key is on the Conversations page).</p>
        <CommandForm token={token} back="actions" command="new" placeholder="slack:T0123:D0456" label="Start fresh" id="new-session" />
      </section>
      {has("backup") || has("restore") ? (
        <section class="card">
          <h2>Backup</h2>
          {has("backup") ? <CommandButton token={token} back="actions" command="backup" label="Back up now" name="backup" /> : null}
          {has("restore") ? <CommandButton token={token} back="actions" command="restore" label="Restore the last backup" kind="danger" name="restore" /> : null}
        </section>
      ) : null}
    </>
  );
}
