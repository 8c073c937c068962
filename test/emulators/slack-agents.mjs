// The Slack emulator's "Agents & AI Apps" part (test/emulators/slack.mjs mounts it): agent
// sessions per thread (`agents.sessions.setStatus`, `agents.sessions.rename`), the split pane's
// suggested prompts, ephemeral messages, and the native stop button.
//
// Like Slack, a session's methods answer `ok: true` with the warning
// `missing_agent_session_stopped_event_subscription` when the app doesn't subscribe to
// `agent_session_stopped`. The app subscribes to both agent events by default (manifest.yml);
// a test can change that for its own channel:
//
//   POST /_emulator/app?channel=C1            {bot_events: ["app_mention", "message.im"]}
//   POST /_emulator/press_stop?channel=C1     {thread_ts, user, force?}
//   GET  /_emulator/sessions?channel=C1       ({sessions: {thread_ts: {status, title, history}}, suggested})
//
// `press_stop` is a user pressing the stop button of the thread's session: Slack shows it only
// while the session is `processing` (else 409 `no_stop_button`, unless `force`, which plays a
// press that crossed the answer's end). It answers `{ok, event}`: the `agent_session_stopped`
// event_callback Slack would deliver, for the test to sign and post to the relay.

const SESSION_STATUSES = new Set(["processing", "active", "suspended", "closed"]);
const DEFAULT_BOT_EVENTS = ["app_mention", "message.im", "assistant_thread_started", "agent_session_stopped"];
const STOP_WARNING = "missing_agent_session_stopped_event_subscription";

/** Methods to add to the emulator's table; `helpers` are the emulator's own state functions. */
export function agentMethods({ channelState, addMessage }) {
  const sessions = (state, channel) => (channelState(state, channel).sessions ??= {});
  const warning = (state, channel) => {
    const events = channelState(state, channel).botEvents ?? DEFAULT_BOT_EVENTS;
    return events.includes("agent_session_stopped") ? {} : { warning: STOP_WARNING };
  };
  const badTitle = (title) => typeof title !== "string" || title.length < 1 || title.length > 200;

  return {
    "agents.sessions.setStatus": (state, body) => {
      if (!body.channel_id) return { ok: false, error: "channel_not_found" };
      if (!body.thread_ts) return { ok: false, error: "invalid_thread_ts" };
      if (!SESSION_STATUSES.has(body.status)) return { ok: false, error: "invalid_status" };
      if (body.title !== undefined && badTitle(body.title)) return { ok: false, error: "invalid_title" };
      const all = sessions(state, body.channel_id);
      const session = (all[body.thread_ts] ??= { status: null, title: null, initiator: null, history: [] });
      session.status = body.status;
      if (body.title !== undefined) session.title = body.title;
      if (body.initiator_user_id) session.initiator ??= body.initiator_user_id;
      session.history.push(body.status);
      return { ok: true, ...warning(state, body.channel_id) };
    },

    "agents.sessions.rename": (state, body) => {
      if (!body.channel_id) return { ok: false, error: "channel_not_found" };
      const session = sessions(state, body.channel_id)[body.thread_ts];
      if (!session) return { ok: false, error: "session_not_found" };
      if (badTitle(body.title)) return { ok: false, error: "invalid_title" };
      session.title = body.title;
      return { ok: true, ...warning(state, body.channel_id) };
    },

    "assistant.threads.setSuggestedPrompts": (state, body) => {
      if (!body.channel_id) return { ok: false, error: "channel_not_found" };
      if (!body.thread_ts) return { ok: false, error: "invalid_thread_ts" };
      const prompts = typeof body.prompts === "string" ? JSON.parse(body.prompts) : body.prompts;
      const valid = Array.isArray(prompts) && prompts.length >= 1 && prompts.length <= 4 && prompts.every((p) => p?.title && p?.message);
      if (!valid) return { ok: false, error: "invalid_arguments" };
      (channelState(state, body.channel_id).suggested ??= {})[body.thread_ts] = { title: body.title ?? null, prompts };
      return { ok: true };
    },

    "chat.postEphemeral": (state, body) => {
      if (!body.channel) return { ok: false, error: "channel_not_found" };
      if (!body.user) return { ok: false, error: "user_not_in_channel" };
      if (!body.text && !body.blocks) return { ok: false, error: "no_text" };
      const message = addMessage(state, body.channel, { thread_ts: body.thread_ts, text: body.text, format: "mrkdwn", ephemeral: true });
      message.to = body.user;
      return { ok: true, message_ts: message.ts };
    },
  };
}

/** The control routes of this part; answers true when it handled the request. */
export async function agentControl(state, req, res, url, { channelState, readBody, send }) {
  const channel = url.searchParams.get("channel") ?? undefined;
  if (req.method === "GET" && url.pathname === "/_emulator/sessions" && channel) {
    const entry = channelState(state, channel);
    send(res, 200, { sessions: entry.sessions ?? {}, suggested: entry.suggested ?? {} });
    return true;
  }
  if (req.method === "POST" && url.pathname === "/_emulator/app") {
    const body = await readBody(req);
    if (!channel || !Array.isArray(body.bot_events)) send(res, 400, { ok: false, error: "app needs a channel and bot_events" });
    else {
      channelState(state, channel).botEvents = body.bot_events;
      send(res, 200, { ok: true });
    }
    return true;
  }
  if (req.method === "POST" && url.pathname === "/_emulator/press_stop") {
    const body = await readBody(req);
    if (!channel || !body.thread_ts || !body.user) {
      send(res, 400, { ok: false, error: "press_stop needs a channel, thread_ts and user" });
      return true;
    }
    const entry = channelState(state, channel);
    const session = entry.sessions?.[body.thread_ts];
    if (session?.status !== "processing" && !body.force) {
      send(res, 409, { ok: false, error: "no_stop_button", status: session?.status ?? null });
      return true;
    }
    const streaming = entry.messages.filter((m) => m.thread_ts === body.thread_ts && m.streaming).map((m) => m.ts);
    const now = Date.now();
    const event = {
      token: "ZZZZZZWSxiZZZ2yIvs3peJ",
      team_id: body.team_id ?? "T0TESTTEAM",
      api_app_id: "A0TESTAPP",
      type: "event_callback",
      event_id: `Ev${now.toString(36).toUpperCase()}${(++state.seq).toString(36).toUpperCase()}`,
      event_time: Math.floor(now / 1000),
      authorizations: [{ team_id: body.team_id ?? "T0TESTTEAM", user_id: "U0MOLTBOT", is_bot: true }],
      event: {
        type: "agent_session_stopped",
        channel,
        thread_ts: body.thread_ts,
        user: body.user,
        streaming_message_ts: streaming,
        event_ts: `${Math.floor(now / 1000)}.000100`,
      },
    };
    send(res, 200, { ok: true, event });
    return true;
  }
  return false;
}
