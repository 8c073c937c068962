#!/usr/bin/env node
// The container's half of the agent's persistence: makes a consistent copy of OpenClaw's state and
// uploads it, or restores one into an empty staging directory, verifies it and moves it into place.
// The Worker runs it (`sandbox.exec`) and keeps everything else: generations, the pointer, the
// guards. Plain Node ESM, built-ins only (node:sqlite needs Node >= 22.13; the container runs 24).
//
//   node agent-state.mjs snapshot              copy, check and upload the state; prints the file list
//                                              (JSON) the Worker turns into a manifest
//   node agent-state.mjs restore <generation>  restore that snapshot if the state directory has no
//       [--replace]                            live state; --replace moves live state aside first
//   node agent-state.mjs inspect               what a snapshot would contain (no upload)
//
// Bytes go to the Worker over plain HTTP at $MOLT_STATE_URL (default http://state.internal, a host
// the Sandbox intercepts): `PUT /objects/<sha256>` (write-new-only: the Worker refuses to replace
// or delete anything), `HEAD|GET /objects/<sha256>`, `GET /snapshots/<generation>` (a manifest).
// Objects are named by their content, so an unchanged file is never uploaded twice; a file over
// 2 MiB is stored as 2 MiB chunks (its manifest entry lists them), so a database that changed in a
// few pages uploads only the chunks those pages are in.
//
// What is kept (paths relative to the state directory):
//   state/openclaw.sqlite                    device identity, paired devices, approvals
//   agents/<id>/agent/openclaw-agent.sqlite  sessions, transcripts, memory, auth profiles
//   agents/<id>/sessions/cold/**             immutable cold transcript archives, if any
//   workspace/**                             MEMORY.md, memory/, USER.md, SOUL.md, skills/, ...
//   credentials/**, identity/**              channel and provider credentials
// SQLite files are copied with SQLite's online backup API (committed state, WAL included; never the
// live file and its -wal) and each copy must pass `PRAGMA integrity_check` before it is uploaded.
// Everything else is rebuilt: openclaw.json (the start script writes it), logs, tmp, caches,
// media, sandboxes, search indexes, node_modules.
//
// Environment: OPENCLAW_STATE_DIR, else $OPENCLAW_HOME|$HOME/.openclaw; MOLT_STATE_URL.

import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Marks a state directory as live (restored, or started fresh with nothing to restore). */
export const MARKER = ".molt-state.json";
const SKIP_DIRS = new Set(["node_modules", ".cache"]);

const blank = (v) => v == null || String(v).trim() === "";

export function stateDir(env = process.env) {
  if (!blank(env.OPENCLAW_STATE_DIR)) return env.OPENCLAW_STATE_DIR;
  const home = !blank(env.OPENCLAW_HOME) ? env.OPENCLAW_HOME : !blank(env.HOME) ? env.HOME : os.homedir();
  return path.join(home, ".openclaw");
}

const baseUrl = (env = process.env) => (blank(env.MOLT_STATE_URL) ? "http://state.internal" : env.MOLT_STATE_URL.replace(/\/+$/, ""));

/** Which files of the state directory are kept, and how: `sqlite` (backup API) or `file`. */
export function classify(rel) {
  const parts = rel.split("/");
  if (rel === "state/openclaw.sqlite") return "sqlite";
  if (parts[0] === "agents" && parts.length === 4 && parts[2] === "agent" && parts[3] === "openclaw-agent.sqlite") return "sqlite";
  if (/-(wal|shm|journal)$/.test(rel)) return null;
  if (parts[0] === "agents" && parts[2] === "sessions" && parts[3] === "cold" && parts.length > 4) return "file";
  if (["workspace", "credentials", "identity"].includes(parts[0]) && parts.length > 1) return "file";
  return null;
}

function* walk(root, rel = "") {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch (error) {
    if (error.code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* walk(root, child);
    } else if (entry.isFile()) yield child;
  }
}

export async function sha256File(file) {
  const hash = crypto.createHash("sha256");
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * Files over this size are stored as chunks of it, each an object of its own: a database that
 * changed in a few pages uploads the chunks those pages are in, not the whole file (SQLite's
 * backup copies pages in place, so unchanged pages give unchanged chunks).
 */
export const CHUNK_BYTES = 2 * 1024 * 1024;

/** The file's SHA-256 and, for a file over CHUNK_BYTES, each chunk's, in one pass. */
export async function hashFile(file) {
  const whole = crypto.createHash("sha256");
  const chunks = [];
  let chunk = crypto.createHash("sha256");
  let filled = 0;
  for await (const buffer of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) {
    whole.update(buffer);
    let offset = 0;
    while (offset < buffer.length) {
      const take = Math.min(CHUNK_BYTES - filled, buffer.length - offset);
      chunk.update(buffer.subarray(offset, offset + take));
      filled += take;
      offset += take;
      if (filled === CHUNK_BYTES) {
        chunks.push({ sha256: chunk.digest("hex"), size: filled });
        chunk = crypto.createHash("sha256");
        filled = 0;
      }
    }
  }
  if (filled > 0) chunks.push({ sha256: chunk.digest("hex"), size: filled });
  const sha256 = whole.digest("hex");
  return chunks.length > 1 ? { sha256, chunks } : { sha256 };
}

/** The objects a file is stored as: its chunks, or itself. */
export const partsOf = (file) => file.chunks ?? [{ sha256: file.sha256, size: file.size }];

/** A consistent copy of a live SQLite database (online backup API), checked before it is used. */
async function copySqlite(source, target) {
  const { DatabaseSync, backup } = await import("node:sqlite");
  const live = new DatabaseSync(source, { readOnly: true });
  try {
    await backup(live, target);
  } finally {
    live.close();
  }
}

export async function checkSqlite(file) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare("PRAGMA integrity_check").all();
    const verdict = rows.map((row) => Object.values(row)[0]).join("; ");
    if (verdict !== "ok") throw new Error(`${path.basename(file)} fails its integrity check: ${verdict.slice(0, 200)}`);
  } finally {
    db.close();
    // A read-only look at a WAL-mode copy leaves an empty -wal and a -shm behind: not part of it.
    if (fs.existsSync(`${file}-wal`) && fs.statSync(`${file}-wal`).size === 0) {
      fs.rmSync(`${file}-wal`, { force: true });
      fs.rmSync(`${file}-shm`, { force: true });
    }
  }
}

/** Copies (SQLite) or lists (plain files) what a snapshot keeps; returns [{path, size, sha256, sqlite?, source}]. */
export async function collect(dir, scratch) {
  const files = [];
  for (const rel of walk(dir)) {
    const kind = classify(rel);
    if (!kind) continue;
    let source = path.join(dir, rel);
    if (kind === "sqlite") {
      const copy = path.join(scratch, `${files.length}.sqlite`);
      await copySqlite(source, copy);
      await checkSqlite(copy);
      source = copy;
    }
    const size = fs.statSync(source).size;
    const { sha256, chunks } = await hashFile(source);
    files.push({ path: rel, size, sha256, ...(kind === "sqlite" ? { sqlite: true } : {}), ...(chunks ? { chunks } : {}), source });
  }
  return files;
}

function openclawVersion() {
  for (const file of [path.join(HERE, "node_modules/openclaw/package.json"), "/opt/molt-relay/node_modules/openclaw/package.json"]) {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")).version;
    } catch {
      // next
    }
  }
  return "unknown";
}

/** Plain HTTP to the Worker's state host; honours http_proxy for hosts not in no_proxy. */
export function request(method, url, { body, length, accept = [200] } = {}) {
  const target = new URL(url);
  const proxy = proxyFor(target);
  return new Promise((resolve, reject) => {
    const headers = { "content-length": String(length ?? 0) };
    const req = http.request(
      proxy
        ? { host: proxy.hostname, port: proxy.port || 80, method, path: target.href, headers: { ...headers, host: target.host } }
        : { host: target.hostname, port: target.port || 80, method, path: target.pathname + target.search, headers },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (!accept.includes(res.statusCode)) reject(new Error(`${method} ${target.pathname}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve({ status: res.statusCode, text });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${target.pathname}: timed out`)));
    if (body) body.on("error", reject).pipe(req);
    else req.end();
  });
}

/** Same as `request`, but the response body goes to (the end of) a file. */
function download(url, file, append = false) {
  const target = new URL(url);
  const proxy = proxyFor(target);
  return new Promise((resolve, reject) => {
    const req = http.request(
      proxy
        ? { host: proxy.hostname, port: proxy.port || 80, method: "GET", path: target.href, headers: { host: target.host } }
        : { host: target.hostname, port: target.port || 80, method: "GET", path: target.pathname },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`GET ${target.pathname}: HTTP ${res.statusCode}`));
        }
        pipeline(res, fs.createWriteStream(file, { mode: 0o600, flags: append ? "a" : "w" })).then(resolve, reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`GET ${target.pathname}: timed out`)));
    req.end();
  });
}

function proxyFor(target) {
  const proxy = process.env.http_proxy || process.env.HTTP_PROXY;
  if (blank(proxy)) return null;
  const skip = String(process.env.no_proxy || process.env.NO_PROXY || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (skip.some((entry) => entry === "*" || target.hostname === entry || target.hostname.endsWith(entry.startsWith(".") ? entry : `.${entry}`))) return null;
  return new URL(proxy);
}

/** Snapshot: copy, check, upload what the Worker lacks; print the file list. */
export async function snapshot(env = process.env) {
  const dir = stateDir(env);
  if (!fs.existsSync(path.join(dir, MARKER))) {
    throw new Error(`${dir} holds no restored state (${MARKER} missing): refusing to snapshot it`);
  }
  const scratch = fs.mkdtempSync(path.join(path.dirname(dir), ".molt-snapshot-"));
  try {
    const files = await collect(dir, scratch);
    const base = baseUrl(env);
    let uploadedBytes = 0;
    let uploaded = 0;
    for (const file of files) {
      let start = 0;
      for (const part of partsOf(file)) {
        const key = `${base}/objects/${part.sha256}`;
        const at = start;
        start += part.size;
        const head = await request("HEAD", key, { accept: [200, 404] });
        if (head.status === 200) continue;
        const body = part.size === 0 ? null : fs.createReadStream(file.source, { start: at, end: at + part.size - 1 });
        await request("PUT", key, { body, length: part.size, accept: [200, 201] });
        uploaded += 1;
        uploadedBytes += part.size;
      }
    }
    const out = files.map(({ source: _source, ...file }) => file);
    return { openclawVersion: openclawVersion(), files: out, uploaded, uploadedBytes };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Restore: a live state directory (with the marker) is left alone unless `replace`; otherwise the
 * snapshot is fetched into an empty staging directory beside it, every file is checked against the
 * manifest (size, SHA-256, SQLite integrity), and only then is it moved into place. Whatever was in
 * the way is moved aside, never deleted.
 */
export async function restore(generation, { replace = false } = {}, env = process.env) {
  const dir = stateDir(env);
  if (fs.existsSync(path.join(dir, MARKER)) && !replace) return { restored: false, reason: "live state present" };
  if (generation === "none") {
    // Nothing saved yet: whatever is there (nothing, or state from before persistence) becomes live.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ generation: null, restoredAt: new Date().toISOString() }) + "\n", { mode: 0o600 });
    return { restored: false, reason: "nothing to restore", generation: null };
  }
  const base = baseUrl(env);
  const started = Date.now();
  const manifest = JSON.parse((await request("GET", `${base}/snapshots/${encodeURIComponent(generation)}`)).text);
  if (String(manifest.generation) !== String(generation) || !Array.isArray(manifest.files)) throw new Error(`snapshot ${generation}: malformed manifest`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(dir), ".molt-restore-"));
  let bytes = 0;
  try {
    for (const file of manifest.files) {
      const rel = path.posix.normalize(file.path);
      if (rel.startsWith("..") || path.posix.isAbsolute(rel) || !classify(rel)) throw new Error(`snapshot ${generation}: refusing path ${file.path}`);
      const target = path.join(staging, rel);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      for (const [index, part] of partsOf(file).entries()) await download(`${base}/objects/${part.sha256}`, target, index > 0);
      const size = fs.statSync(target).size;
      const sha256 = await sha256File(target);
      if (size !== file.size || sha256 !== file.sha256) throw new Error(`snapshot ${generation}: ${rel} does not match its manifest`);
      if (file.sqlite) await checkSqlite(target);
      bytes += size;
    }
    const marker = { generation: manifest.generation, restoredAt: new Date().toISOString(), files: manifest.files.length, bytes };
    fs.writeFileSync(path.join(staging, MARKER), JSON.stringify(marker) + "\n", { mode: 0o600 });
    // Into place: what was there (an empty start, or live state when replacing) is moved aside.
    let movedAside = null;
    if (fs.existsSync(dir)) {
      movedAside = `${dir}.aside-${Date.now()}`;
      fs.renameSync(dir, movedAside);
    }
    fs.renameSync(staging, dir);
    return { restored: true, generation: marker.generation, files: marker.files, bytes, ms: Date.now() - started, movedAside };
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

async function main() {
  const [command, arg, ...flags] = process.argv.slice(2);
  let result;
  if (command === "snapshot") result = await snapshot();
  else if (command === "restore" && arg && /^(none|\d{1,12})$/.test(arg)) result = await restore(arg, { replace: flags.includes("--replace") });
  else if (command === "inspect") {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "molt-inspect-"));
    try {
      result = { files: (await collect(stateDir(), scratch)).map(({ source: _source, ...file }) => file) };
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  } else {
    process.stderr.write("usage: agent-state.mjs snapshot | restore <generation|none> [--replace] | inspect\n");
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`[agent-state] ${error.message}\n`);
    process.exit(1);
  });
}
