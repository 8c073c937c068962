/**
 * What the Gateway connection keeps in its Durable Object's storage, so that a fresh instance
 * (after an eviction or a deploy) resumes instead of identifying: the session (id, resume URL, last
 * handled sequence) and the counters /healthz shows, with the IDENTIFY budget.
 */

export interface Session {
  sessionId: string;
  resumeUrl: string;
  seq: number | null;
}

export interface Stats {
  botId?: string;
  identifies: number;
  resumes: number;
  zombies: number;
  reconnects: number;
  /** Via which the current session began: `identified` or `resumed`. */
  via?: "identified" | "resumed";
  lastEventAt?: number;
  lastError?: string;
  /** IDENTIFYs left and when the budget resets (from session_start_limit, counted down locally). */
  identifyRemaining?: number;
  identifyResetAt?: number;
  lastIdentifyAt?: number;
}

export class GatewayStore {
  /** As stored (undefined: not read yet; null: none). */
  session: Session | null | undefined;
  stats: Stats | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly log: (message: string) => void,
  ) {}

  loadSession = async (): Promise<Session | null> => {
    if (this.session === undefined) this.session = (await this.storage.get<Session>("session")) ?? null;
    return this.session;
  };

  saveSession = async (next: Session | null): Promise<void> => {
    this.session = next;
    if (next) await this.storage.put("session", next);
    else await this.storage.delete("session");
  };

  loadStats = async (): Promise<Stats> => {
    if (!this.stats) this.stats = (await this.storage.get<Stats>("stats")) ?? { identifies: 0, resumes: 0, zombies: 0, reconnects: 0 };
    return this.stats;
  };

  /** Changes apply in order (a change may be computed from the stats as they are by then). */
  saveStats = (change: Partial<Stats> | ((current: Stats) => Partial<Stats>)): Promise<void> => {
    this.saving = this.saving
      .then(async () => {
        const current = await this.loadStats();
        this.stats = { ...current, ...(typeof change === "function" ? change(current) : change) };
        await this.storage.put("stats", this.stats);
      })
      .catch((error) => this.log(`saving stats failed: ${String(error)}`));
    return this.saving;
  };
}
