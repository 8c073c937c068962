/** People: pairing requests to approve or deny, who may DM the agent on each platform, the admins. */
import { adapters } from "../../../adapters";
import { admins, dmPolicyFor } from "../../../policy/admission";
import { type ListEntry, policy } from "../../../policy/policy-object";
import { CommandButton, CommandForm, formatTime } from "../layout";
import type { PageContext } from "./context";

export async function peoplePage({ env, token, now }: PageContext) {
  const store = policy(env);
  const [pending, lists] = await Promise.all([store.pairings(), store.lists()]);
  const platforms = adapters.map((adapter) => adapter.platform);
  const byPlatform = (entries: ListEntry[], platform: string) => entries.filter((entry) => entry.value.startsWith(`${platform}:`));
  return (
    <>
      <section class="card" id="pairing">
        <h2>Pairing requests</h2>
        {pending.length === 0 ? (
          <p class="muted">No pending pairing requests.</p>
        ) : (
          <ul class="items">
            {pending.map((request) => (
              <li data-code={request.code}>
                <div>
                  <code class="big">{request.code}</code> {request.name ? <strong>{request.name}</strong> : null}
                </div>
                <div class="muted">
                  <code>{request.sender}</code>, expires in {Math.max(0, Math.ceil((request.expiresAt - now) / 60_000))} min
                </div>
                <div class="buttons">
                  <CommandButton token={token} back="people" command="pair" args={["approve", request.code]} label="Approve" kind="primary" name="approve" />
                  <CommandButton token={token} back="people" command="pair" args={["deny", request.code]} label="Deny" kind="danger" name="deny" />
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" id="lists">
        <h2>Who may talk to the agent</h2>
        {platforms.map((platform) => (
          <div class="platform" id={`platform-${platform}`}>
            <h3>
              {platform} <span class="pill">DMs: {dmPolicyFor(env, platform)}</span>
            </h3>
            <dl class="facts">
              <dt>Allowed to DM</dt>
              <dd><EntryList entries={byPlatform(lists.senders, platform)} empty="nobody yet (admins always may)" token={token} deny={(value) => [value]} /></dd>
              <dt>Channels</dt>
              <dd><EntryList entries={byPlatform(lists.channels, platform)} empty="every channel the bot is in" token={token} deny={(value) => ["channel", value]} /></dd>
            </dl>
          </div>
        ))}
        <CommandForm token={token} back="people" command="allow" placeholder="platform:userId" label="Allow to DM" id="allow-sender" />
      </section>

      <section class="card" id="admins">
        <h2>Admins</h2>
        <p class="muted">From the ADMINS setting; change it in the Worker's configuration.</p>
        <ul>
          {[...admins(env)].map((admin) => (
            <li><code>{admin}</code></li>
          ))}
        </ul>
      </section>
    </>
  );

  function EntryList(props: { entries: ListEntry[]; empty: string; token: string; deny: (value: string) => string[] }) {
    if (props.entries.length === 0) return <span class="muted">{props.empty}</span>;
    return (
      <ul class="plain">
        {props.entries.map((entry) => (
          <li>
            <code>{entry.value}</code> <span class="muted">by {entry.addedBy}, {formatTime(entry.addedAt)}</span>{" "}
            <CommandButton token={props.token} back="people" command="deny" args={props.deny(entry.value)} label="Remove" kind="danger" />
          </li>
        ))}
      </ul>
    );
  }
}
