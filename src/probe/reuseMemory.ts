import type { Observations } from "./types.js";

type TlsReuse = NonNullable<Observations["tlsReuse"]>;

/**
 * Whether a server demands TLS session reuse is a setting, not a state: a worker that checks the
 * same server every few minutes asks once an hour, not every time (each answer costs the server a
 * second login and, where it demands reuse, a refused data connection in its log). Per process,
 * bounded, keyed by address, port, user and certificate, so a changed certificate asks again.
 */
const TTL_MS = 60 * 60_000;
const MAX_ENTRIES = 10_000;
const answers = new Map<string, { at: number; answer: TlsReuse }>();

export function reuseKey(address: string, port: number, user: string, fingerprint: string): string {
  return `${address}|${port}|${user}|${fingerprint}`;
}

/** A definite answer from the last hour, if there is one. */
export function recallReuse(key: string, now = Date.now()): { at: number; answer: TlsReuse } | undefined {
  const hit = answers.get(key);
  if (!hit) return undefined;
  if (now - hit.at > TTL_MS) {
    answers.delete(key);
    return undefined;
  }
  return hit;
}

/** Keep a definite answer (required / not-required); an unanswered check is asked again next time. */
export function rememberReuse(key: string, answer: TlsReuse, now = Date.now()): void {
  if (answer.status === "not-run") return;
  answers.delete(key);
  if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value!);
  answers.set(key, { at: now, answer: { ...answer } });
}

/** Forget every answer (tests that restart a server on a port another one used). */
export function forgetReuseAnswers(): void {
  answers.clear();
}
