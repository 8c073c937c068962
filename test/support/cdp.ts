/**
 * A small DevTools-protocol client for tests in workerd: a WebSocket to Chromium's browser
 * endpoint (opened with fetch's Upgrade, as workerd does), commands by id, events by name, and
 * flat sessions for pages.
 */

type Params = Record<string, unknown>;
type Listener = (params: Params, sessionId: string | undefined) => void | Promise<void>;

export class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: Params) => void; reject: (error: Error) => void; method: string }>();
  private readonly listeners = new Map<string, Listener[]>();
  /** Errors thrown by event listeners: a test checks this is empty. */
  readonly listenerErrors: string[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => this.receive(String(event.data)));
    socket.addEventListener("close", () => {
      for (const { reject, method } of this.pending.values()) reject(new Error(`DevTools closed during ${method}`));
      this.pending.clear();
    });
  }

  static async connect(webSocketDebuggerUrl: string): Promise<Cdp> {
    const response = await fetch(webSocketDebuggerUrl.replace(/^ws:/, "http:"), { headers: { Upgrade: "websocket" } });
    const socket = response.webSocket;
    if (!socket) throw new Error(`no WebSocket from Chromium (HTTP ${response.status})`);
    socket.accept();
    return new Cdp(socket);
  }

  send<T = Params>(method: string, params: Params = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: Params) => void, reject, method });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(method: string, listener: Listener): () => void {
    const list = this.listeners.get(method) ?? [];
    list.push(listener);
    this.listeners.set(method, list);
    return () => this.listeners.set(method, (this.listeners.get(method) ?? []).filter((entry) => entry !== listener));
  }

  /** The next `method` event (of `sessionId`) for which `match` holds. */
  waitFor(method: string, sessionId?: string, match: (params: Params) => boolean = () => true, timeoutMs = 30_000): Promise<Params> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(method, (params, from) => {
        if ((sessionId && from !== sessionId) || !match(params)) return;
        clearTimeout(timer);
        off();
        resolve(params);
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  private receive(data: string): void {
    const message = JSON.parse(data) as { id?: number; result?: Params; error?: { message: string }; method?: string; params?: Params; sessionId?: string };
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result ?? {});
      return;
    }
    for (const listener of this.listeners.get(message.method ?? "") ?? []) {
      Promise.resolve(listener(message.params ?? {}, message.sessionId)).catch((error: unknown) =>
        this.listenerErrors.push(`${message.method}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
}
