/**
 * A stand-in for the container runtime a Durable Object sees as `ctx.container` (what
 * @cloudflare/containers calls: `running`, `start`, `monitor`, `destroy`, `signal`,
 * `getTcpPort(port).fetch`, `interceptOutboundHttp`, `interceptOutboundHttps`,
 * `interceptAllOutboundHttp`). The container itself lives on the test container host
 * (container-host.mjs): real processes, a fresh disk per start, the control plane on port 3000.
 *
 * While a container runs, this runtime keeps one WebSocket to the host: the host reports the
 * container's exit on it (which settles `monitor()`), and sends the requests its processes make to
 * intercepted hosts, which are answered here by the fetcher the SDK registered, streamed back.
 */

interface StartOptions {
  env?: Record<string, string>;
  entrypoint?: string[];
  enableInternet?: boolean;
}

const DATA = 0;
const END = 1;
/** A binary WebSocket message on an intercepted upgrade (egress-proxy.mjs). */
const WS_BINARY = 2;
/** WebSocket readyState OPEN: a channel whose container died is closed, and sends to it throw. */
const OPEN = 1;

function frame(id: number, kind: number, bytes: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(5 + bytes.byteLength);
  new DataView(out.buffer).setUint32(0, id);
  out[4] = kind;
  out.set(bytes, 5);
  return out;
}

export class EmulatedContainerRuntime {
  running = false;
  private starting: Promise<void> = Promise.resolve();
  private exited: Promise<void> = Promise.resolve();
  private settleExit: ((exitCode: number) => void) | undefined;
  private channel: WebSocket | undefined;
  private readonly intercepts = new Map<string, Fetcher>();
  private interceptAll: Fetcher | undefined;
  private readonly bodies = new Map<number, ReadableStreamDefaultController<Uint8Array>>();

  constructor(
    private readonly hostUrl: string,
    private readonly id: string,
  ) {}

  private get base(): string {
    return `${this.hostUrl}/runtime/${encodeURIComponent(this.id)}`;
  }

  /** A fresh Durable Object instance finds a container that is still running (after a reset). */
  async attach(): Promise<void> {
    const state = (await (await fetch(this.base)).json()) as { running: boolean };
    if (!state.running || this.running) return;
    this.running = true;
    this.exited = new Promise((resolve, reject) => (this.settleExit = (code) => (code === 0 ? resolve() : reject(new Error(`container exited with unexpected exit code: ${code}`)))));
    this.exited.catch(() => undefined);
    await this.openChannel();
  }

  start(options: StartOptions = {}): void {
    if (this.running) throw new Error("start() cannot be called on a container that is already running.");
    this.running = true;
    this.exited = new Promise((resolve, reject) => (this.settleExit = (code) => (code === 0 ? resolve() : reject(new Error(`container exited with unexpected exit code: ${code}`)))));
    this.exited.catch(() => undefined);
    this.starting = (async () => {
      const response = await fetch(`${this.base}/start`, {
        method: "POST",
        body: JSON.stringify({ env: options.env ?? {}, intercepts: [...this.intercepts.keys()], interceptAll: Boolean(this.interceptAll) }),
      });
      if (!response.ok) throw new Error(`container start failed: ${await response.text()}`);
      await this.openChannel();
    })();
    this.starting.catch(() => this.onExit(1));
  }

  monitor(): Promise<void> {
    return this.exited;
  }

  async destroy(): Promise<void> {
    if (!this.running) return;
    await this.starting.catch(() => undefined);
    await fetch(`${this.base}/destroy`, { method: "POST" });
    await this.exited.catch(() => undefined);
  }

  signal(signo: number): void {
    if (!this.running) return;
    void this.starting.then(() => fetch(`${this.base}/signal`, { method: "POST", body: JSON.stringify({ signal: signo }) })).catch(() => undefined);
  }

  getTcpPort(port: number): { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> } {
    return {
      fetch: async (input, init) => {
        await this.starting;
        if (!this.running) throw new Error("the container is not running");
        const request = new Request(input, init);
        const url = new URL(request.url);
        const hasBody = request.method !== "GET" && request.method !== "HEAD";
        const response = await fetch(`${this.base}/port/${port}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          body: hasBody ? request.body : undefined,
          redirect: "manual",
          signal: request.signal,
        });
        const runtimeError = response.headers.get("x-runtime-error");
        if (runtimeError) {
          await response.body?.cancel();
          throw new Error(decodeURIComponent(runtimeError));
        }
        return response;
      },
    };
  }

  async interceptOutboundHttp(host: string, fetcher: Fetcher): Promise<void> {
    this.intercepts.set(host, fetcher);
    if (this.running) await this.tell({ host });
  }

  /** HTTPS interception needs the runtime's CA in the container; not emulated (nothing here uses it). */
  async interceptOutboundHttps(_host: string, _fetcher: Fetcher): Promise<void> {}

  async interceptAllOutboundHttp(fetcher: Fetcher): Promise<void> {
    this.interceptAll = fetcher;
    if (this.running) await this.tell({ all: true });
  }

  private async tell(body: Record<string, unknown>): Promise<void> {
    await this.starting.catch(() => undefined);
    await fetch(`${this.base}/intercept`, { method: "POST", body: JSON.stringify(body) });
  }

  private onExit(exitCode: number): void {
    if (!this.running) return;
    this.running = false;
    this.channel = undefined;
    for (const controller of this.bodies.values()) controller.error(new Error("the container stopped"));
    this.bodies.clear();
    this.settleExit?.(exitCode);
  }

  private async openChannel(): Promise<void> {
    const response = await fetch(`${this.base}/channel`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket;
    if (!ws) throw new Error(`the container host refused the runtime channel (HTTP ${response.status})`);
    ws.accept();
    // Binary frames as ArrayBuffer (a Blob would need an await and could reorder body chunks).
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    this.channel = ws;
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        const message = JSON.parse(event.data) as { t: string; exitCode?: number; id?: number; method?: string; url?: string; headers?: Record<string, string>; text?: string; code?: number; reason?: string };
        if (message.t === "exit") this.onExit(message.exitCode ?? 0);
        else if (message.t === "req") void this.outbound(ws, message as { id: number; method: string; url: string; headers: Record<string, string> });
        else if (message.t === "ws") void this.outboundSocket(ws, message as { id: number; url: string; headers: Record<string, string> });
        else if (message.t === "wsm") this.sockets.get(message.id!)?.send(message.text ?? "");
        else if (message.t === "wsc") {
          const socket = this.sockets.get(message.id!);
          this.sockets.delete(message.id!);
          const { code, reason } = message;
          socket?.close(code && code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000, reason);
        }
        return;
      }
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      if (bytes[4] === WS_BINARY) return void this.sockets.get(id)?.send(bytes.slice(5));
      const controller = this.bodies.get(id);
      if (!controller) return;
      if (bytes[4] === DATA) controller.enqueue(bytes.slice(5));
      else {
        controller.close();
        this.bodies.delete(id);
      }
    });
    ws.addEventListener("close", () => {
      if (this.channel === ws) this.onExit(1);
    });
  }

  /** WebSockets a process opened to an intercepted host, by the proxy's id. */
  private sockets = new Map<number, WebSocket>();

  /** A process in the container opened a WebSocket to an intercepted host: the handler answers the upgrade. */
  private async outboundSocket(ws: WebSocket, message: { id: number; url: string; headers: Record<string, string> }): Promise<void> {
    const { id, url } = message;
    const fetcher = this.intercepts.get(new URL(url).hostname) ?? this.interceptAll;
    const headers = new Headers(message.headers);
    headers.delete("host");
    const response = fetcher ? await fetcher.fetch(new Request(url, { headers })).catch(() => undefined) : undefined;
    const socket = response?.webSocket;
    if (!socket) {
      ws.send(JSON.stringify({ t: "ws-reject", id, status: response?.status ?? 502 }));
      return;
    }
    socket.accept();
    (socket as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    this.sockets.set(id, socket);
    ws.send(JSON.stringify({ t: "ws-accept", id }));
    socket.addEventListener("message", (event) => {
      if (ws.readyState !== OPEN) return;
      if (typeof event.data === "string") ws.send(JSON.stringify({ t: "wsm", id, text: event.data }));
      else ws.send(frame(id, WS_BINARY, new Uint8Array(event.data as ArrayBuffer)));
    });
    socket.addEventListener("close", (event) => {
      if (this.sockets.delete(id) && ws.readyState === OPEN) ws.send(JSON.stringify({ t: "wsc", id, code: event.code, reason: event.reason }));
    });
  }

  /** A process in the container called an intercepted host: answer it with the SDK's fetcher. */
  private async outbound(ws: WebSocket, message: { id: number; method: string; url: string; headers: Record<string, string> }): Promise<void> {
    const { id, method, url } = message;
    const fetcher = this.intercepts.get(new URL(url).hostname) ?? this.interceptAll;
    const headers = new Headers(message.headers);
    headers.delete("host");
    const hasBody = method !== "GET" && method !== "HEAD";
    const body = hasBody ? new ReadableStream<Uint8Array>({ start: (controller) => void this.bodies.set(id, controller) }) : undefined;
    try {
      if (!fetcher) throw new Error(`no outbound handler for ${new URL(url).hostname}`);
      const response = await fetcher.fetch(new Request(url, { method, headers, body }));
      ws.send(JSON.stringify({ t: "res", id, status: response.status, headers: Object.fromEntries(response.headers) }));
      if (response.body) {
        const reader = response.body.getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) ws.send(frame(id, DATA, chunk.value));
      }
      ws.send(frame(id, END));
    } catch (error) {
      // The container went away while it was being answered (its channel closed): nobody is left
      // to tell, as when a real container dies mid-request.
      if (ws.readyState !== OPEN) return;
      ws.send(JSON.stringify({ t: "err", id, message: error instanceof Error ? error.message : String(error) }));
    }
  }
}
