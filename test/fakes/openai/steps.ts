/**
 * What a test scripts the fake OpenAI to answer: one step per request, consumed in order per
 * model (see `FakeOpenAI.script`). The chat completions endpoint plays text, tool-call, error and
 * hang steps; a new endpoint reads the same steps its own way (a transcription is `{ text }`).
 *
 * @example
 * fake.script('gpt-test', { text: 'Hello', chunkSize: 2 }, { error: { status: 429, retryAfterMs: 50 } });
 */

/** Token usage as OpenAI reports it. */
export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type FakeFinishReason = 'stop' | 'length' | 'content_filter';

/** Answer with text; streamed in `chunkSize`-character chunks when the request streams. */
export interface FakeTextStep {
  text: string;
  /** Characters per SSE chunk (default 4). */
  chunkSize?: number;
  /** Delay between chunks (default 0). */
  chunkDelayMs?: number;
  /** Delay before the first content chunk (streaming: headers and the role chunk go out first). */
  firstTokenDelayMs?: number;
  /** Default: estimated from the request and the text (about 4 characters a token). */
  usage?: FakeUsage;
  finishReason?: FakeFinishReason;
  /** Destroy the socket after this many content chunks (0 = before any content; JSON: before the response). */
  disconnectAfterChunks?: number;
  /** Stop sending after this many content chunks and keep the connection open until the client goes away or `close()`. */
  stallAfterChunks?: number;
}

export interface FakeToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim (so tests can send malformed arguments). */
  arguments: Record<string, unknown> | string;
  /** Default: `call_<n>`. */
  id?: string;
}

/** Answer with tool calls (finish_reason `tool_calls`); arguments are streamed in `chunkSize` pieces. */
export interface FakeToolCallsStep {
  toolCalls: FakeToolCall[];
  /** Optional assistant text sent before the tool calls. */
  text?: string;
  chunkSize?: number;
  chunkDelayMs?: number;
  firstTokenDelayMs?: number;
  usage?: FakeUsage;
}

export interface FakeErrorSpec {
  status: number;
  /** Sent as `retry-after` (seconds; fractions allowed, the AI SDK parses with parseFloat). */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms`; the AI SDK prefers it over `retry-after`. */
  retryAfterMs?: number;
  /** OpenAI error code, e.g. `rate_limit_exceeded`, `context_length_exceeded`, `content_filter`. */
  code?: string;
  /** OpenAI error type; defaults by status. */
  type?: string;
  message?: string;
}

/** Answer with an OpenAI-shaped error. */
export interface FakeErrorStep {
  error: FakeErrorSpec;
  /**
   * Streaming requests only: answer 200 and send the error as an SSE `data: {"error":…}` frame
   * (what OpenAI does when a stream fails), after streaming `textBefore` if given.
   */
  inStream?: boolean;
  textBefore?: string;
}

/** Accept the request and never answer until the client gives up or the fake closes. */
export interface FakeHangStep {
  hang: true;
}

export type FakeStaticStep = FakeTextStep | FakeToolCallsStep | FakeErrorStep | FakeHangStep;

/** What a function step and the default responder see. */
export interface FakeChatRequest {
  model: string;
  messages: FakeMessage[];
  tools: unknown[] | undefined;
  stream: boolean;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** Text of the last `user` message ('' when there is none). */
  lastUserText: string;
}

export type FakeStepFunction = (request: FakeChatRequest) => FakeStep | Promise<FakeStep>;
export type FakeStep = FakeStaticStep | FakeStepFunction;

/** A chat message as received (OpenAI wire shape, loosely typed). */
export interface FakeMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  [key: string]: unknown;
}

/** Answers `echo: <last user text>`: what the fake says when nothing is scripted. */
export function defaultEchoResponder(request: FakeChatRequest): FakeStep {
  return { text: `echo: ${request.lastUserText}` };
}

export function isTextStep(step: FakeStaticStep): step is FakeTextStep {
  return 'text' in step && !('toolCalls' in step) && !('error' in step);
}

/** Runs step functions until a static step comes out (bounded, so a buggy script cannot loop forever). */
export async function resolveStep(step: FakeStep, request: FakeChatRequest): Promise<FakeStaticStep> {
  let current: FakeStep = step;
  for (let depth = 0; depth < 10; depth += 1) {
    if (typeof current !== 'function') return current;
    current = await current(request);
  }
  throw new Error('fake-openai: step functions nested more than 10 deep');
}
