import type { NetError, Reply, StepId, StepRecord, StepStatus, TranscriptLine } from "./types.js";
import { LIMITS } from "../config/defaults.js";

/** Make server-supplied text safe for a terminal and a chat message: no control characters, bounded. */
export function sanitize(text: string, max: number = LIMITS.replyTextChars): string {
  // C0/C1 controls (except tab) become U+FFFD; a hostile banner cannot move the cursor or
  // inject escape sequences into the operator's terminal or break Slack formatting.
  // eslint-disable-next-line no-control-regex
  let out = text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "\uFFFD");
  if (out.length > max) out = `${out.slice(0, max)}… (${out.length - max} more characters)`;
  return out;
}

/** Collects steps and the redacted transcript of one check, timed from its start. */
export class Recorder {
  readonly t0 = performance.now();
  readonly steps: StepRecord[] = [];
  readonly transcript: TranscriptLine[] = [];
  private transcriptChars = 0;
  private dropped = 0;
  constructor(private readonly onStep?: (step: StepRecord) => void) {}

  now(): number {
    return Math.round(performance.now() - this.t0);
  }

  line(dir: TranscriptLine["dir"], conn: string, text: string): void {
    const clean = sanitize(text, LIMITS.transcriptLineChars);
    if (this.transcript.length >= LIMITS.transcriptLines || this.transcriptChars > LIMITS.transcriptChars) {
      this.dropped++;
      return;
    }
    this.transcriptChars += clean.length;
    this.transcript.push({ t: this.now(), dir, conn, text: clean });
  }

  /** Start a step; the returned function closes it. */
  begin(id: StepId): StepHandle {
    const startMs = this.now();
    let closed = false;
    return {
      startMs,
      end: (status: StepStatus, detail: string, extra: { reply?: Reply; error?: NetError } = {}) => {
        if (closed) return;
        closed = true;
        const rec: StepRecord = { id, status, startMs, durationMs: this.now() - startMs, detail: sanitize(detail, 400), ...extra };
        this.steps.push(rec);
        this.onStep?.(rec);
      },
    };
  }

  finish(): void {
    if (this.dropped > 0)
      this.transcript.push({ t: this.now(), dir: "*", conn: "-", text: `(${this.dropped} more transcript lines dropped)` });
  }
}

export interface StepHandle {
  startMs: number;
  end(status: StepStatus, detail: string, extra?: { reply?: Reply; error?: NetError }): void;
}

/** The whole-check budget. Every network wait asks it for a deadline. */
export class Budget {
  private readonly until: number;
  constructor(readonly totalMs: number) {
    this.until = performance.now() + totalMs;
  }
  remaining(): number {
    return Math.max(0, this.until - performance.now());
  }
  /** A step deadline: `wanted`, but never past the budget (keeping `reserve` ms for QUIT and cleanup). */
  cap(wanted: number, reserve: number = LIMITS.cleanupReserveMs): number {
    return Math.max(1, Math.min(wanted, this.remaining() - reserve));
  }
  expired(reserve: number = LIMITS.cleanupReserveMs): boolean {
    return this.remaining() <= reserve;
  }
}
