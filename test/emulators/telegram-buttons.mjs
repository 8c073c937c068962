// The Telegram emulator's inline keyboards (test/emulators/telegram.mjs mounts it): messages keep
// their `reply_markup`, `deleteMessage` removes one, and a user can press a button:
//
//   POST /_emulator/press?chat_id=42   {message_id, user_id, first_name?, data?}
//
// answers `{ok, update}`: the `callback_query` update Telegram would deliver, for the test to post
// to the relay's webhook. Like Telegram, only a button that is on a message still in the chat can
// be pressed (else 409 `no_button`). `answerCallbackQuery` takes only the id of a press, once.

/** Methods to add to the emulator's table; `helpers` are the emulator's own state functions. */
export function buttonMethods({ chat, bad, parseJson }) {
  return {
    deleteMessage: (state, body) => {
      const entry = chat(state, body.chat_id);
      const index = entry.messages.findIndex((m) => m.message_id === Number(body.message_id));
      if (index < 0) return bad("message to delete not found");
      const [removed] = entry.messages.splice(index, 1);
      (entry.deleted ??= []).push(removed);
      return true;
    },

    answerCallbackQuery: (state, body) => {
      const press = (state.presses ??= new Map()).get(String(body.callback_query_id));
      if (!press || press.answered) return bad("query is too old and response timeout expired or query ID is invalid");
      if (body.text !== undefined && String(body.text).length > 200) return bad("text is too long");
      Object.assign(press, { answered: true, text: body.text ?? null, show_alert: Boolean(parseJson(body.show_alert)) });
      return true;
    },
  };
}

/** Keep a sent message's inline keyboard (Telegram shows it under the message). */
export function keepMarkup(message, body, parseJson) {
  if (body.reply_markup !== undefined) message.reply_markup = parseJson(body.reply_markup);
  return message;
}

/** The control route of this part; answers true when it handled the request. */
export async function buttonControl(state, req, res, url, { chat, readRaw, send, publicMessage }) {
  if (!(req.method === "POST" && url.pathname === "/_emulator/press")) return false;
  const chatId = url.searchParams.get("chat_id");
  const body = JSON.parse((await readRaw(req)).toString("utf8") || "{}");
  const message = chatId ? chat(state, chatId).messages.find((m) => m.message_id === Number(body.message_id)) : undefined;
  const buttons = (message?.reply_markup?.inline_keyboard ?? []).flat().filter((b) => typeof b.callback_data === "string");
  const button = body.data === undefined ? buttons[0] : buttons.find((b) => b.callback_data === body.data);
  if (!message || !button) {
    send(res, 409, { ok: false, description: "no_button" });
    return true;
  }
  const id = `${Date.now()}${++state.seq}`;
  (state.presses ??= new Map()).set(id, { chat_id: chatId, message_id: message.message_id, data: button.callback_data, answered: false });
  const update = {
    update_id: body.update_id ?? 900_000_000 + state.seq,
    callback_query: {
      id,
      from: { id: Number(body.user_id), is_bot: false, first_name: body.first_name ?? "Tess" },
      message: { ...publicMessage(message), reply_markup: message.reply_markup },
      chat_instance: `ci${chatId}`,
      data: button.callback_data,
    },
  };
  send(res, 200, { ok: true, update });
  return true;
}

/** A press's answer, for tests: `GET /_emulator/presses`. */
export function pressesOf(state) {
  return [...(state.presses ?? new Map()).entries()].map(([id, press]) => ({ id, ...press }));
}
