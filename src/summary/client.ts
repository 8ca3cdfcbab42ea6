// Loaded on first use: a check that asks for no summary must not pay for the SDK at start-up.
let OpenAI: typeof import("openai").default;
import { SUMMARY_DEFAULTS, type SummaryConfig } from "./settings.js";
import { SummaryError, type SummaryFailure } from "./failures.js";
import { ChatCompletionBody } from "./outputSchema.js";

export type EnabledSummaryConfig = Extract<SummaryConfig, { enabled: true }>;

export interface JsonRequest {
  system: string;
  user: string;
  /** Name of the json_schema response format (a-z, 0-9, _ and -). */
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

export interface JsonAnswer {
  /** The assistant message content, unparsed. */
  content: string;
  attempts: number;
}

/**
 * One chat completion that returns JSON text, or a SummaryError, within `deadlineMs` whatever the
 * server does. The SDK's own retries are off (`maxRetries: 0`): it would sleep out a 429's
 * retry-after without looking at any deadline, and that sleep cannot be aborted. We retry once
 * ourselves, only when the wait and a useful attempt still fit before the deadline. The deadline
 * aborts the request through its AbortSignal and, as a backstop, races it, so a server that sends
 * headers and then trickles the body cannot hold the caller either.
 */
export async function completeJson(config: EnabledSummaryConfig, req: JsonRequest, deadlineMs: number): Promise<JsonAnswer> {
  OpenAI ??= (await import("openai")).default;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const controller = new AbortController();
  const timeout = new SummaryError("timeout", `no answer within the ${deadlineMs} ms deadline`);
  const timer = setTimeout(() => controller.abort(timeout), deadlineMs);
  const deadline = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(timeout), { once: true }));
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL ?? null,
    // Everything comes from the env passed in: keep the SDK from reading process.env on its own.
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: deadlineMs,
    // We log a fixed warning ourselves; the SDK's console logging would bypass pino.
    logLevel: "off",
  });
  const body = {
    model: config.model,
    messages: [
      { role: "system" as const, content: req.system },
      { role: "user" as const, content: req.user },
    ],
    response_format:
      config.responseFormat === "json_schema"
        ? { type: "json_schema" as const, json_schema: { name: req.schemaName, strict: true, schema: req.jsonSchema } }
        : { type: "json_object" as const },
  };

  const attempt = async (): Promise<JsonAnswer> => {
    for (let n = 1; ; n++) {
      try {
        const completion: unknown = await client.chat.completions.create(body, {
          signal: controller.signal,
          timeout: Math.max(1, Math.round(deadlineMs - elapsed())),
          maxRetries: 0,
        });
        const parsed = ChatCompletionBody.safeParse(completion);
        if (!parsed.success)
          throw new SummaryError("malformed", `not a chat completion: ${parsed.error.issues[0]?.message ?? "unexpected shape"}`);
        const choice = parsed.data.choices[0]!;
        if (typeof choice.message.content !== "string" || choice.message.content.trim() === "")
          throw new SummaryError(
            "malformed",
            choice.message.refusal ? "the model refused" : `empty answer (finish_reason ${choice.finish_reason ?? "none"})`,
          );
        return { content: choice.message.content, attempts: n };
      } catch (err) {
        const e = classify(err, controller.signal);
        const wait = retryAfterMs(err) ?? SUMMARY_DEFAULTS.retryBackoffMs;
        const retryable =
          e.reason === "rate_limited" || e.reason === "connection_error" || (e.reason === "http_error" && (e.status ?? 0) >= 500);
        if (!retryable || n > SUMMARY_DEFAULTS.maxRetries || elapsed() + wait + SUMMARY_DEFAULTS.minAttemptMs > deadlineMs) throw e;
        await sleep(wait, controller.signal);
      }
    }
  };
  try {
    return await Promise.race([attempt(), deadline]);
  } finally {
    clearTimeout(timer);
    // Whoever lost the race: cancel the request so no socket outlives the call.
    if (!controller.signal.aborted) controller.abort(new SummaryError("internal", "done"));
  }
}

function classify(err: unknown, signal: AbortSignal): SummaryError {
  if (err instanceof SummaryError) return err;
  if (signal.aborted && signal.reason instanceof SummaryError) return signal.reason;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new SummaryError("timeout", "the model server did not answer in time");
  if (err instanceof OpenAI.APIUserAbortError) return new SummaryError("timeout", "request aborted at the deadline");
  if (err instanceof OpenAI.APIConnectionError)
    return new SummaryError(
      "connection_error",
      `cannot reach the model server: ${(err.cause as Error | undefined)?.message ?? err.message}`,
    );
  if (err instanceof OpenAI.APIError) {
    const status = typeof err.status === "number" ? err.status : undefined;
    const reason: SummaryFailure = status === 429 ? "rate_limited" : "http_error";
    return new SummaryError(reason, `model server answered ${status ?? "an error"}: ${err.message}`.slice(0, 300), status);
  }
  // A 200 whose body is not JSON, and the like: the SDK's parser throws a plain error.
  return new SummaryError("malformed", `unreadable answer: ${(err as Error)?.message ?? String(err)}`.slice(0, 300));
}

/** retry-after-ms, then retry-after in seconds or as an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof OpenAI.APIError) || !err.headers) return undefined;
  const ms = Number.parseFloat(err.headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const h = err.headers.get("retry-after");
  if (!h) return undefined;
  const s = Number.parseFloat(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
