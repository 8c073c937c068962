// The Discord emulator's message components (test/emulators/discord.mjs mounts it): messages keep
// their `components` (checked the way Discord checks them: action rows of at most 5 buttons, a
// button's `custom_id` 1-100 characters, a label of at most 80), an edit with `components` replaces
// them and one without leaves them, `DELETE` removes a message, and a user can press a button:
//
//   POST /_emulator/press?channel_id=C   {message_id, user_id, application_id, guild_id?, custom_id?, force?}
//
// answers `{ok, interaction}`: the MESSAGE_COMPONENT interaction (type 3) Discord would deliver,
// for the test to sign and post to the relay. Like Discord, only a button that is on a message
// still in the channel can be pressed (else 409 `no_button`); `force` with a `custom_id` presses a
// button that was just taken away (a press that crossed the answer's end). The relay's answer to
// a press can be checked as Discord checks it:
//
//   POST /_emulator/press-answer   {token, response}   -> {ok} or 400 {message}
//
// Discord takes one answer per interaction: PONG is for pings only, a component press takes 4
// (a message), 5 (deferred message), 6 (deferred update) or 7 (update the message).

const ACTION_ROW = 1;
const BUTTON = 2;

/** Why `components` is not what Discord takes, or undefined. */
export function componentsProblem(components) {
  if (components === undefined) return undefined;
  if (!Array.isArray(components) || components.length > 5) return "Invalid Form Body: components";
  for (const [i, row] of components.entries()) {
    if (row?.type !== ACTION_ROW || !Array.isArray(row.components) || row.components.length < 1 || row.components.length > 5) return `Invalid Form Body: components.${i}`;
    for (const [j, button] of row.components.entries()) {
      const where = `components.${i}.components.${j}`;
      if (button?.type !== BUTTON) return `Invalid Form Body: ${where}.type`;
      if (typeof button.style !== "number" || button.style < 1 || button.style > 6) return `Invalid Form Body: ${where}.style`;
      if (button.style !== 5 && (typeof button.custom_id !== "string" || button.custom_id.length < 1 || button.custom_id.length > 100)) return `Invalid Form Body: ${where}.custom_id`;
      if (button.label !== undefined && (typeof button.label !== "string" || button.label.length > 80)) return `Invalid Form Body: ${where}.label`;
    }
  }
  return undefined;
}

/** The control routes of this part; answers true when it handled the request. */
export async function buttonControl(state, req, res, url, { channel, readRaw, send, snowflake }) {
  const route = `${req.method} ${url.pathname}`;
  if (route !== "POST /_emulator/press" && route !== "POST /_emulator/press-answer") return false;
  const body = JSON.parse((await readRaw(req)).toString("utf8") || "{}");
  state.presses ??= new Map();
  if (route === "POST /_emulator/press-answer") {
    const press = state.presses.get(String(body.token));
    const problem = !press ? "Unknown interaction" : press.answered ? "Interaction has already been acknowledged." : answerProblem(body.response);
    if (problem) {
      send(res, 400, { message: problem, code: press ? 40060 : 10062 });
      return true;
    }
    Object.assign(press, { answered: true, response: body.response });
    send(res, 200, { ok: true });
    return true;
  }
  const channelId = url.searchParams.get("channel_id") ?? "";
  const message = channel(state, channelId).messages.find((m) => m.id === String(body.message_id));
  const buttons = (message?.components ?? []).flatMap((row) => row.components).filter((b) => typeof b.custom_id === "string");
  const button = body.custom_id === undefined ? buttons[0] : buttons.find((b) => b.custom_id === body.custom_id) ?? (body.force ? { custom_id: body.custom_id } : undefined);
  if (!button || (!message && !body.force)) {
    send(res, 409, { ok: false, message: "no_button" });
    return true;
  }
  const token = `ctoken-${snowflake(state)}`;
  const user = { id: String(body.user_id), username: body.username ?? "tess", global_name: body.global_name ?? "Tess" };
  const interaction = {
    id: snowflake(state),
    application_id: String(body.application_id),
    type: 3,
    token,
    version: 1,
    channel_id: channelId,
    channel: { id: channelId, type: body.guild_id ? 0 : 1 },
    ...(body.guild_id ? { guild_id: String(body.guild_id), member: { user, roles: [] } } : { user }),
    message: message ?? { id: String(body.message_id), channel_id: channelId, content: "", components: [] },
    data: { custom_id: button.custom_id, component_type: BUTTON },
  };
  state.presses.set(token, { channel_id: channelId, message_id: String(body.message_id), custom_id: button.custom_id, answered: false });
  send(res, 200, { ok: true, interaction });
  return true;
}

function answerProblem(response) {
  const type = response?.type;
  if (![4, 5, 6, 7].includes(type)) return "Invalid Form Body: type (not an answer to a component interaction)";
  if (type === 4 || type === 7) {
    const content = response.data?.content;
    if (type === 4 && (typeof content !== "string" || !content.trim())) return "Cannot send an empty message";
    if (typeof content === "string" && content.length > 2000) return "Invalid Form Body: data.content";
  }
  return componentsProblem(response.data?.components);
}

/** A press's record, for tests: `GET /_emulator/presses`. */
export function pressesOf(state) {
  return [...(state.presses ?? new Map()).entries()].map(([token, press]) => ({ token, ...press }));
}
