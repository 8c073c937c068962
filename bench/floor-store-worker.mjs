// The ack bench's second floor: the least a Worker can do that stores each request durably before
// answering it. It reads the body, makes one RPC to a warm SQLite Durable Object (one of 16, like
// the relay's intake shards) that inserts it, and answers 200. No verification, no parsing. What
// this can't beat on this machine, no store-then-ack Worker can.
import { DurableObject } from "cloudflare:workers";

export class FloorStore extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
  }

  async store(body) {
    this.ctx.storage.sql.exec("INSERT INTO inbox (body) VALUES (?)", body);
  }
}

let next = 0;
export default {
  async fetch(request, env) {
    const body = await request.text();
    const shard = next++ % 16;
    await env.FLOOR.get(env.FLOOR.idFromName(`shard-${shard}`)).store(body);
    return new Response("ok");
  },
};
