// Chat playground (`#/playground?deployment=NAME`): streaming chat with any chat deployment
// through the project endpoint (OpenAI v1), with a system message, temperature, max tokens,
// JSON mode and the conversation so far; a stop button; tokens used and time to first token.
// Either API: Chat Completions (the portal sends the whole conversation each turn) or the
// Responses API (the server keeps it: each turn sends only the new message and previous_response_id).
import { useEffect, useRef, useState } from "react";
import { listDataDeployments, stream } from "../api.ts";
import type { ApiError, Session } from "../api.ts";
import { Annotations, FilteredPrompt, mergeResults } from "../components/ContentFilterParts.tsx";
import { responsesBody, responseTurn } from "../components/responses.ts";
import type { PlaygroundApi } from "../components/responses.ts";
import { listDeployments } from "../components/DeployDialog.tsx";
import { ErrorBox, Field, navigate, useRoute, useSession } from "../ui.tsx";

interface Message {
  role: "user" | "assistant";
  content: string;
  /** Content-filter annotations of an answer (Azure's prompt_filter_results and the choice's content_filter_results). */
  filter?: { prompt?: Record<string, any>; completion?: Record<string, any>; finishReason?: string | null };
  /** A prompt the deployment's policy refused (400 content_filter): its content_filter_result. */
  blocked?: Record<string, any>;
}

interface Stats {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  ttftMs?: number;
  totalMs: number;
  finishReason?: string | null;
  stopped?: boolean;
}

/** A chat deployment the playground can offer, from ARM (token) or the data plane (key). */
interface ChatDeployment {
  name: string;
  model: string;
  /** ARM's provisioningState words: Succeeded, Creating, Failed… */
  state: string;
}

const DATA_STATE: Record<string, string> = { succeeded: "Succeeded", failed: "Failed", running: "Creating", notRunning: "Accepted", deleted: "Deleting", canceled: "Canceled" };

/** A token lists deployments through ARM; an account key through the data plane (GET /openai/deployments). */
async function chatDeployments(session: Session): Promise<ChatDeployment[]> {
  if (session.mode === "token")
    return (await listDeployments(session))
      .filter((d) => d.properties.capabilities?.chatCompletion === "true")
      .map((d) => ({ name: d.name, model: d.properties.model.name, state: d.properties.provisioningState }));
  return (await listDataDeployments(session)).filter((d) => d.capabilities?.chat_completion).map((d) => ({ name: d.id, model: d.model, state: DATA_STATE[d.status] ?? d.status }));
}

export function PlaygroundPage() {
  const { session } = useSession();
  const { query } = useRoute();
  const wanted = query.get("deployment") ?? "";
  const [deployments, setDeployments] = useState<ChatDeployment[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [deployment, setDeployment] = useState(wanted);
  const [system, setSystem] = useState("You are a helpful assistant.");
  const [temperature, setTemperature] = useState(0.7);
  const [maxTokens, setMaxTokens] = useState(256);
  const [jsonMode, setJsonMode] = useState(false);
  const [api, setApi] = useState<PlaygroundApi>(query.get("api") === "responses" ? "responses" : "chat");
  /** Responses API: the last stored response of this conversation, which the next turn continues. */
  const [previousId, setPreviousId] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const chatEnd = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    chatDeployments(session).then((chat) => {
      setDeployments(chat);
      setDeployment((cur) => cur || chat.find((d) => d.state === "Succeeded")?.name || chat[0]?.name || "");
    }, setListError);
  }, [session]);
  useEffect(() => {
    if (wanted) setDeployment(wanted);
  }, [wanted]);
  useEffect(() => {
    chatEnd.current?.scrollIntoView?.({ block: "nearest" });
  }, [messages]);
  useEffect(() => () => abort.current?.abort(), []);

  const names = (deployments ?? []).map((d) => d.name);
  const options = deployment && !names.includes(deployment) ? [deployment, ...names] : names;
  const current = deployments?.find((d) => d.name === deployment);
  const notReady = current && current.state !== "Succeeded";

  const send = async () => {
    const text = draft.trim();
    if (!text || busy) return;
    if (!deployment) {
      setError({ code: "NoDeployment", message: "Pick a chat deployment first, or deploy a chat model from the model catalog." });
      return;
    }
    const history: Message[] = [...messages, { role: "user", content: text }];
    setMessages([...history, { role: "assistant", content: "" }]);
    setDraft("");
    setError(null);
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    const s: Stats = { totalMs: 0 };
    setStats(null);
    let answer = "";
    const filter: NonNullable<Message["filter"]> = {};
    const show = () => {
      const snapshot = { role: "assistant" as const, content: answer, filter: { ...filter } };
      setMessages((m) => [...m.slice(0, -1), snapshot]);
    };
    try {
      if (api === "responses") {
        const body = responsesBody({ deployment, system, temperature, maxTokens, jsonMode, previousId, history: history.filter((m, i) => !m.blocked && !history[i + 1]?.blocked) });
        const turn = await responseTurn(session, body, controller.signal, (delta) => {
          if (s.ttftMs === undefined) s.ttftMs = performance.now() - started;
          answer += delta;
          show();
        });
        Object.assign(s, turn.stats);
        if (turn.responseId) setPreviousId(turn.responseId);
        if (controller.signal.aborted) s.stopped = true;
        return;
      }
      const body = {
        model: deployment,
        // A refused prompt and its filtered marker are not sent again; annotations stay in the portal.
        messages: [...(system.trim() ? [{ role: "system", content: system }] : []), ...history.filter((m, i) => !m.blocked && !history[i + 1]?.blocked).map((m) => ({ role: m.role, content: m.content }))],
        temperature,
        max_tokens: maxTokens,
        stream: true,
        stream_options: { include_usage: true },
        ...(jsonMode ? { response_format: { type: "json_object" } } : {}),
      };
      for await (const chunk of stream(session, "/chat/completions", body, controller.signal)) {
        for (const p of chunk.prompt_filter_results ?? []) if (p.prompt_index === 0 || chunk.prompt_filter_results.length === 1) filter.prompt = mergeResults(filter.prompt, p.content_filter_results);
        const choice = chunk.choices?.[0];
        if (choice?.content_filter_results) filter.completion = mergeResults(filter.completion, choice.content_filter_results);
        const delta: string | undefined = choice?.delta?.content;
        if (delta) {
          if (s.ttftMs === undefined) s.ttftMs = performance.now() - started;
          answer += delta;
        }
        if (choice?.finish_reason) s.finishReason = filter.finishReason = choice.finish_reason;
        show();
        if (chunk.usage) {
          s.promptTokens = chunk.usage.prompt_tokens;
          s.completionTokens = chunk.usage.completion_tokens;
          s.totalTokens = chunk.usage.total_tokens;
        }
      }
      if (controller.signal.aborted) s.stopped = true;
    } catch (e) {
      if ((e as Error).name === "AbortError" || controller.signal.aborted) s.stopped = true;
      else if ((e as ApiError).code === "content_filter" && (e as ApiError).status === 400) {
        // As Azure's playground: the refused prompt stays in the chat, marked, with the categories that filtered.
        const inner = (e as ApiError).inner;
        const result = inner?.content_filter_result ?? inner?.content_filter_results ?? {};
        setMessages((m) => [...m.slice(0, -1), { role: "assistant", content: "", blocked: result }]);
        return;
      } else setError(e);
      if (!answer) setMessages((m) => (m.at(-1)?.role === "assistant" && !m.at(-1)?.content && !s.stopped ? m.slice(0, -1) : m));
    } finally {
      s.totalMs = performance.now() - started;
      setStats({ ...s });
      setBusy(false);
      abort.current = null;
    }
  };

  return (
    <>
      <div className="page-head row">
        <h1>Chat playground</h1>
        <span className="spacer" />
        {current ? (
          <a href={`#/deployments/${encodeURIComponent(current.name)}`} className="muted">
            View code for {current.name}
          </a>
        ) : null}
      </div>
      <ErrorBox error={listError} />
      <div className="playground">
        <section className="card setup">
          <h3>Setup</h3>
          <Field label="Deployment" hint={deployments && deployments.length === 0 ? "No chat deployments yet." : undefined}>
            <select name="deployment" value={deployment} onChange={(e) => setDeployment(e.target.value)}>
              {options.length === 0 ? <option value="">No chat deployments</option> : null}
              {options.map((n) => {
                const d = deployments?.find((x) => x.name === n);
                return (
                  <option key={n} value={n}>
                    {n}
                    {d ? ` (${d.model}${d.state === "Succeeded" ? "" : `, ${d.state}`})` : ""}
                  </option>
                );
              })}
            </select>
          </Field>
          {deployments && deployments.length === 0 ? (
            session.mode === "token" ? (
              <button className="small" onClick={() => navigate("/catalog")}>
                Deploy a chat model
              </button>
            ) : (
              <p className="muted small">Deploying a model needs a token: run 'ingot token' and sign in with its output.</p>
            )
          ) : null}
          {notReady ? <div className="notice">{current!.name} is {current!.state}; requests fail until it has Succeeded.</div> : null}
          <Field label="System message" hint="Instructions the model follows for the whole conversation.">
            <textarea name="system" rows={5} value={system} onChange={(e) => setSystem(e.target.value)} />
          </Field>
          <div className="params">
            <Field label="Temperature" hint="0 focused – 2 random">
              <input name="temperature" type="number" min={0} max={2} step={0.1} value={Number.isFinite(temperature) ? temperature : ""} onChange={(e) => setTemperature(e.target.valueAsNumber)} />
            </Field>
            <Field label="Max tokens" hint="Longest answer">
              <input name="maxTokens" type="number" min={1} step={1} value={Number.isFinite(maxTokens) ? maxTokens : ""} onChange={(e) => setMaxTokens(e.target.valueAsNumber)} />
            </Field>
          </div>
          <label className="check">
            <input name="jsonMode" type="checkbox" checked={jsonMode} onChange={(e) => setJsonMode(e.target.checked)} /> JSON mode{" "}
            <span className="muted small">({api === "responses" ? "text.format" : "response_format"} json_object)</span>
          </label>
          <label className="check">
            <input
              name="responsesApi"
              type="checkbox"
              checked={api === "responses"}
              disabled={busy}
              onChange={(e) => {
                setApi(e.target.checked ? "responses" : "chat");
                // A new server-side conversation starts from what is on screen (sent once as input items).
                setPreviousId(null);
              }}
            />{" "}
            Use the Responses API
          </label>
          {api === "responses" ? (
            <p className="muted small" data-testid="conversation-state" style={{ overflowWrap: "anywhere" }}>
              {previousId ? (
                <>
                  Next turn continues <span className="mono">{previousId}</span> (previous_response_id): only the new message is sent.
                </>
              ) : (
                "The conversation is kept on the server: the first turn starts a stored response; later turns send only the new message."
              )}
            </p>
          ) : null}
        </section>
        <section className="card chat-panel">
          <div className="chat" data-testid="chat">
            {messages.length === 0 ? <p className="muted empty-chat">Send a message to start chatting{deployment ? ` with ${deployment}` : ""}.</p> : null}
            {messages.map((m, i) =>
              m.blocked ? (
                <FilteredPrompt key={i} result={m.blocked} />
              ) : (
                <div key={i} className={`msg ${m.role}`}>
                  {m.content || (busy && i === messages.length - 1 ? <span className="typing">…</span> : m.filter?.finishReason === "content_filter" ? null : <span className="muted">(empty answer)</span>)}
                  {m.filter?.finishReason === "content_filter" ? <span className="cut-mark"> [cut by the content filter]</span> : null}
                  {m.filter && !(busy && i === messages.length - 1) ? <Annotations {...m.filter} /> : null}
                </div>
              ),
            )}
            <div ref={chatEnd} />
          </div>
          <ErrorBox error={error} onDismiss={() => setError(null)} />
          <div className="stats" data-testid="stats">
            {stats ? statsText(stats) : busy ? "Waiting for the first token…" : "Tokens and time to first token (TTFT) appear here after each answer."}
          </div>
          <form
            className="composer"
            onSubmit={(e) => {
              e.preventDefault();
              void send();
            }}
          >
            <textarea
              name="message"
              rows={3}
              placeholder="Type a message (Enter sends, Shift+Enter adds a line)"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey) {
                  e.preventDefault();
                  void send();
                }
              }}
            />
            <div className="composer-actions">
              {busy ? (
                <button type="button" className="danger" onClick={() => abort.current?.abort()}>
                  Stop
                </button>
              ) : (
                <button type="submit" className="primary" disabled={!draft.trim()}>
                  Send
                </button>
              )}
              <button
                type="button"
                disabled={busy || messages.length === 0}
                onClick={() => {
                  setMessages([]);
                  setStats(null);
                  setError(null);
                  setPreviousId(null);
                }}
              >
                Clear chat
              </button>
            </div>
          </form>
        </section>
      </div>
    </>
  );
}

function statsText(s: Stats): string {
  const parts: string[] = [];
  if (s.totalTokens !== undefined) parts.push(`${s.promptTokens} prompt + ${s.completionTokens} completion = ${s.totalTokens} tokens`);
  else parts.push(s.stopped ? "tokens: not reported (stopped)" : "tokens: not reported");
  parts.push(`TTFT ${s.ttftMs === undefined ? "—" : `${Math.round(s.ttftMs)} ms`}`);
  parts.push(`${(s.totalMs / 1000).toFixed(2)} s total`);
  if (s.completionTokens && s.ttftMs !== undefined && s.totalMs > s.ttftMs) parts.push(`${(s.completionTokens / ((s.totalMs - s.ttftMs) / 1000)).toFixed(1)} tokens/s`);
  if (s.stopped) parts.push("stopped");
  else if (s.finishReason) parts.push(`finish: ${s.finishReason}`);
  return parts.join(" · ");
}
