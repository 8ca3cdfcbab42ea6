/**
 * A local OpenAI-compatible server for the summary tests: POST /v1/chat/completions on 127.0.0.1,
 * answering with the real response shape (id, object "chat.completion", choices[].message,
 * usage…), scripted per request. Every request is captured (headers and raw body) so tests can
 * assert what left the process. Nothing here touches the internet.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface CapturedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw request body as sent on the wire. */
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

/** What to do with one request. */
export type Reply =
  | { kind: "answer"; content: string | null; finishReason?: string }
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: "hang" }
  | { kind: "stall-body" }
  | { kind: "raw"; status: number; contentType: string; body: string };

export interface FakeOpenAI {
  baseURL: string;
  requests: CapturedRequest[];
  /** Raw response bodies sent, in order (for the exchange shown in the note). */
  responses: string[];
  close(): Promise<void>;
}

export const answer = (obj: unknown): Reply => ({ kind: "answer", content: typeof obj === "string" ? obj : JSON.stringify(obj) });

/** Replies are used in order; the last one repeats. */
export async function startFakeOpenAI(replies: Reply[]): Promise<FakeOpenAI> {
  const requests: CapturedRequest[] = [];
  const responses: string[] = [];
  const sockets = new Set<Socket>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // captured as raw; the test decides
      }
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, raw, body, at: Date.now() });
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" } }));
        return;
      }
      const r = replies[Math.min(n++, replies.length - 1)]!;
      const send = (status: number, headers: Record<string, string>, text: string) => {
        responses.push(text);
        res.writeHead(status, { "content-type": "application/json", "x-request-id": `req_fake_${n}`, ...headers }).end(text);
      };
      switch (r.kind) {
        case "answer": {
          const completion = {
            id: `chatcmpl-fake${n}`,
            object: "chat.completion",
            created: 1_763_900_000 + n,
            model: typeof body.model === "string" ? body.model : "fake-model",
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: r.content, refusal: null, annotations: [] },
                logprobs: null,
                finish_reason: r.finishReason ?? "stop",
              },
            ],
            usage: {
              prompt_tokens: Math.ceil(raw.length / 4),
              completion_tokens: Math.ceil((r.content ?? "").length / 4),
              total_tokens: Math.ceil(raw.length / 4) + Math.ceil((r.content ?? "").length / 4),
            },
            system_fingerprint: "fp_fake",
          };
          send(200, {}, JSON.stringify(completion));
          break;
        }
        case "status":
          send(
            r.status,
            r.headers ?? {},
            JSON.stringify(r.body ?? { error: { message: `scripted ${r.status}`, type: "server_error", code: null } }),
          );
          break;
        case "raw":
          responses.push(r.body);
          res.writeHead(r.status, { "content-type": r.contentType }).end(r.body);
          break;
        case "hang":
          // Never answer: the client's deadline must end it.
          break;
        case "stall-body":
          // Headers at once, then a body that never completes.
          res.writeHead(200, { "content-type": "application/json" });
          res.write('{"id":"chatcmpl-stall","object":"chat.completion","choices":[');
          break;
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    responses,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
