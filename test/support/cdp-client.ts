/**
 * A minimal CDP client over a workerd WebSocket, for tests: numbered calls, replies matched by id,
 * and every raw frame kept so a test can compare bytes.
 */
export interface CdpClient {
  socket: WebSocket;
  /** Every frame received, as it arrived. */
  frames: (string | ArrayBuffer)[];
  call<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<T>;
  /** The raw reply frame of a call with a given id. */
  rawReply(id: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function openSocket(fetcher: { fetch(input: string, init?: RequestInit): Promise<Response> }, url: string): Promise<Response> {
  return fetcher.fetch(url, { headers: { Upgrade: "websocket" } });
}

export function cdpClient(socket: WebSocket): CdpClient {
  socket.accept();
  const frames: (string | ArrayBuffer)[] = [];
  const waiters = new Map<number, (frame: string) => void>();
  const replies = new Map<number, string>();
  let nextId = 1;
  socket.addEventListener("message", (event) => {
    frames.push(event.data as string | ArrayBuffer);
    if (typeof event.data !== "string") return;
    let id: unknown;
    try {
      id = (JSON.parse(event.data) as { id?: unknown }).id;
    } catch {
      return; // not a CDP frame
    }
    if (typeof id !== "number") return;
    replies.set(id, event.data);
    waiters.get(id)?.(event.data);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  const rawReply = (id: number) =>
    replies.has(id) ? Promise.resolve(replies.get(id)!) : new Promise<string>((resolve) => waiters.set(id, resolve));
  return {
    socket,
    frames,
    closed,
    rawReply,
    async call(method, params = {}, sessionId) {
      const id = nextId++;
      const reply = rawReply(id);
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      const parsed = JSON.parse(await Promise.race([reply, closed.then((c) => Promise.reject(new Error(`socket closed (${c.code} ${c.reason}) before the reply to ${method}`)))]));
      if (parsed.error) throw new Error(`${method}: ${JSON.stringify(parsed.error)}`);
      return parsed.result;
    },
    close() {
      try {
        socket.close(1000, "done");
      } catch {
        // already closed
      }
    },
  };
}
