/** The page shell: navigation, who is signed in, the result of the last action. No scripts. */
import type { Child } from "hono/jsx";

export const PAGES = [
  ["overview", "Overview", "/admin/"],
  ["people", "People", "/admin/people"],
  ["conversations", "Conversations", "/admin/conversations"],
  ["logs", "Logs", "/admin/logs"],
  ["actions", "Actions", "/admin/actions"],
  ["cost", "Cost", "/admin/cost"],
] as const;

export type PageName = (typeof PAGES)[number][0];

export interface Flash {
  ok: boolean;
  title: string;
  text: string;
}

export function Layout(props: { page: PageName; who: string; flash?: Flash; children?: Child }) {
  const title = PAGES.find(([name]) => name === props.page)![1];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · molt-relay`}</title>
        <link rel="stylesheet" href="/admin/console.css" />
      </head>
      <body>
        <header>
          <span class="brand">molt-relay</span>
          <span class="who">{props.who}</span>
          <nav>
            {PAGES.map(([name, label, href]) => (
              <a href={href} aria-current={name === props.page ? "page" : undefined}>
                {label}
              </a>
            ))}
          </nav>
        </header>
        <main>
          {props.flash ? <FlashCard flash={props.flash} /> : null}
          <h1>{title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

function FlashCard({ flash }: { flash: Flash }) {
  return (
    <section class={flash.ok ? "card flash" : "card flash failed"} role="status" id="result">
      <strong>{flash.title}</strong>
      <pre>
        <CommandText text={flash.text} />
      </pre>
    </section>
  );
}

/** A command's reply as chat shows it: `code` spans become code, *bold* markers go. Escaped by JSX. */
function CommandText({ text }: { text: string }) {
  return (
    <>
      {text
        .replace(/```\n?/g, "")
        .split("`")
        .map((part, index) => (index % 2 === 1 ? <code>{part}</code> : part.replace(/\*([^*\n]+)\*/g, "$1")))}
    </>
  );
}

/**
 * A button that runs one `/molt` command through the registry: a POST form carrying the session
 * token and the page to come back to.
 */
export function CommandButton(props: { token: string; back: PageName; command: string; args?: string[]; label: string; kind?: "primary" | "danger"; name?: string }) {
  return (
    <form class="inline" method="post" action="/admin/run">
      <input type="hidden" name="token" value={props.token} />
      <input type="hidden" name="back" value={props.back} />
      <input type="hidden" name="command" value={props.command} />
      {(props.args ?? []).map((arg) => (
        <input type="hidden" name="arg" value={arg} />
      ))}
      <button type="submit" class={props.kind} name={props.name}>
        {props.label}
      </button>
    </form>
  );
}

/** A command with one typed argument (a model name, a conversation key). */
export function CommandForm(props: { token: string; back: PageName; command: string; fixedArgs?: string[]; placeholder: string; label: string; id: string }) {
  return (
    <form class="row" method="post" action="/admin/run">
      <input type="hidden" name="token" value={props.token} />
      <input type="hidden" name="back" value={props.back} />
      <input type="hidden" name="command" value={props.command} />
      {(props.fixedArgs ?? []).map((arg) => (
        <input type="hidden" name="arg" value={arg} />
      ))}
      <input type="text" name="arg" id={props.id} placeholder={props.placeholder} required aria-label={props.placeholder} />
      <button type="submit">{props.label}</button>
    </form>
  );
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
