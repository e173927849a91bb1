/**
 * Where an answer goes while it is produced. The Feishu streaming card, the plain-text
 * fallback and the devtools playground each implement it, so the agent code does not know
 * which one it writes to.
 *
 * Calls arrive in this order: `start` once, `update` any number of times with the FULL text
 * so far (never a delta), then exactly one of `finish` or `fail`. Implementations throttle and
 * order their own writes; `update` must never block the model stream.
 */
export interface ReplySink {
  /** Shows the user that work started (a "thinking" card, a reaction). */
  start(): Promise<void>;
  update(fullText: string): void;
  /** The final answer; `summary` is a short footer such as the model and token count. */
  finish(finalText: string, summary?: string): Promise<void>;
  /** Closes the reply with what was said so far plus a short honest notice. */
  fail(partialText: string, notice: string): Promise<void>;
}
