import { randomUUID } from 'node:crypto';
import { defineOpenAIEndpoint } from './core.js';
import { errorHeaders, errorPayload } from './errors.js';
import type { Exchange } from './exchange.js';
import type { ScriptBook } from './script-book.js';
import {
  type FakeChatRequest,
  type FakeErrorSpec,
  type FakeErrorStep,
  type FakeMessage,
  type FakeTextStep,
  type FakeToolCall,
  type FakeToolCallsStep,
  type FakeUsage,
  isTextStep,
  resolveStep,
} from './steps.js';

/**
 * `POST /v1/chat/completions` as the real `@ai-sdk/openai` chat model parses it: a JSON
 * `chat.completion` with usage, or a `text/event-stream` of `chat.completion.chunk` frames (role
 * chunk, content or tool-call deltas, the finish chunk, the `include_usage` chunk, `[DONE]`).
 * Each request plays one scripted step: a model's fault storm first, then its queue, then `'*'`,
 * then the default responder.
 */
export const chatCompletionsEndpoint = defineOpenAIEndpoint({
  name: 'chat-completions',
  install(core) {
    const { acceptAnyModel = false, defaultChunkSize = 4 } = core.options;
    const { scripts } = core;
    core.route({
      method: 'POST',
      path: '/v1/chat/completions',
      async handle(exchange, { rawBody }) {
        const request = parseChatRequest(exchange, rawBody, { acceptAnyModel, scripts });
        core.notify(); // waiters filtering by model can only match now
        if (request === undefined) return;
        await playChat(exchange, request, { scripts, defaultChunkSize });
      },
    });
    return {};
  },
});

/** Validates the body, fills in the record, and answers the 400/404 itself when it is not a valid chat request. */
function parseChatRequest(
  exchange: Exchange,
  rawBody: Buffer,
  { acceptAnyModel, scripts }: { acceptAnyModel: boolean; scripts: ScriptBook },
): FakeChatRequest | undefined {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    exchange.fail(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    exchange.fail(400, 'The request body must be a JSON object.', 'invalid_request_error', null);
    return undefined;
  }
  const payload = body as Record<string, unknown>;
  const model = typeof payload.model === 'string' ? payload.model : '';
  const messages = Array.isArray(payload.messages) ? (payload.messages as FakeMessage[]) : undefined;
  const entry = exchange.record;
  entry.model = model;
  entry.body = payload;
  entry.stream = payload.stream === true;
  entry.tools = Array.isArray(payload.tools) ? payload.tools : undefined;
  entry.messages = messages ?? [];
  if (model === '') {
    exchange.fail(400, 'you must provide a model parameter', 'invalid_request_error', null, 'model');
    return undefined;
  }
  if (messages === undefined) {
    exchange.fail(
      400,
      "Missing required parameter: 'messages'.",
      'invalid_request_error',
      'missing_required_parameter',
      'messages',
    );
    return undefined;
  }
  if (!acceptAnyModel && !scripts.hasModel(model)) {
    exchange.sendJson(404, errorPayload({ status: 404 }, model));
    exchange.finish('error');
    return undefined;
  }
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  return {
    model,
    messages,
    tools: entry.tools,
    stream: entry.stream,
    body: payload,
    headers: entry.headers,
    lastUserText: lastUser === undefined ? '' : textOfContent(lastUser.content),
  };
}

async function playChat(
  exchange: Exchange,
  request: FakeChatRequest,
  { scripts, defaultChunkSize }: { scripts: ScriptBook; defaultChunkSize: number },
): Promise<void> {
  const respondError = (spec: FakeErrorSpec) => {
    const { model } = request;
    exchange.sendJson(spec.status, errorPayload(spec, model), errorHeaders(spec, scripts.rateLimitHeaders(model)));
    exchange.finish('error');
  };
  const fault = scripts.activeFault(request.model);
  if (fault !== undefined) {
    respondError(fault);
    return;
  }
  const step = await resolveStep(scripts.nextStep(request.model) ?? scripts.defaultResponder, request);
  if ('hang' in step) {
    exchange.record.outcome = 'hang';
    await exchange.waitUntilAborted();
    return;
  }
  if ('error' in step) {
    if (step.inStream === true && request.stream)
      streamErrorStep(exchange, request, step, { scripts, defaultChunkSize });
    else respondError(step.error);
    return;
  }
  const play = { scripts, defaultChunkSize };
  if (request.stream) {
    if ('toolCalls' in step) await streamToolCallsStep(exchange, request, step, play);
    else if (isTextStep(step)) await streamTextStep(exchange, request, step, play);
    return;
  }
  await respondJson(exchange, request, step, scripts);
}

interface Play {
  scripts: ScriptBook;
  defaultChunkSize: number;
}

/**
 * The chunks of one streamed completion, as OpenAI sends them: one id, time and model on every
 * chunk, and with `stream_options.include_usage` a `usage: null` on each and a last chunk
 * carrying the usage before `[DONE]`.
 */
function completionChunks(exchange: Exchange, request: FakeChatRequest) {
  const includeUsage = hasIncludeUsage(request.body);
  const common = {
    id: completionId(),
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    system_fingerprint: 'fp_fake',
  };
  return {
    write(delta: Record<string, unknown>, finishReason: string | null = null) {
      exchange.writeEvent({
        ...common,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    },
    end(usage: FakeUsage) {
      if (includeUsage) exchange.writeEvent({ ...common, choices: [], usage: withTotal(usage) });
      exchange.response.end('data: [DONE]\n\n');
      exchange.finish('ok');
    },
  };
}

async function streamTextStep(exchange: Exchange, request: FakeChatRequest, step: FakeTextStep, play: Play) {
  const { model } = request;
  const usage = step.usage ?? { prompt_tokens: promptTokens(request), completion_tokens: estimateTokens(step.text) };
  play.scripts.consumeQuota(model, usage);
  const chunks = completionChunks(exchange, request);
  exchange.startStream(play.scripts.rateLimitHeaders(model));
  chunks.write({ role: 'assistant', content: '', refusal: null });
  await exchange.pause(step.firstTokenDelayMs ?? 0);
  const pieces = splitIntoChunks(step.text, step.chunkSize ?? play.defaultChunkSize);
  for (const [index, piece] of pieces.entries()) {
    if (step.disconnectAfterChunks !== undefined && index >= step.disconnectAfterChunks) {
      await exchange.disconnect();
      return;
    }
    if (step.stallAfterChunks !== undefined && index >= step.stallAfterChunks) {
      exchange.record.outcome = 'stalled';
      await exchange.waitUntilAborted();
    }
    if (index > 0) await exchange.pause(step.chunkDelayMs ?? 0);
    chunks.write({ content: piece });
  }
  if (step.disconnectAfterChunks !== undefined) {
    await exchange.disconnect();
    return;
  }
  chunks.write({}, step.finishReason ?? 'stop');
  chunks.end(usage);
}

async function streamToolCallsStep(exchange: Exchange, request: FakeChatRequest, step: FakeToolCallsStep, play: Play) {
  const { model } = request;
  const calls = normaliseToolCalls(step.toolCalls);
  const usage = step.usage ?? {
    prompt_tokens: promptTokens(request),
    completion_tokens: estimateTokens((step.text ?? '') + calls.map((call) => call.name + call.arguments).join('')),
  };
  play.scripts.consumeQuota(model, usage);
  const chunks = completionChunks(exchange, request);
  const chunkSize = step.chunkSize ?? play.defaultChunkSize;
  exchange.startStream(play.scripts.rateLimitHeaders(model));
  await exchange.pause(step.firstTokenDelayMs ?? 0);
  let first = true;
  const role = () => {
    if (!first) return {};
    first = false;
    return { role: 'assistant' };
  };
  if (step.text !== undefined && step.text.length > 0) {
    for (const piece of splitIntoChunks(step.text, chunkSize)) {
      chunks.write({ ...role(), content: piece });
      await exchange.pause(step.chunkDelayMs ?? 0);
    }
  }
  for (const [index, call] of calls.entries()) {
    chunks.write({
      ...role(),
      content: null,
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    for (const piece of splitIntoChunks(call.arguments, chunkSize)) {
      await exchange.pause(step.chunkDelayMs ?? 0);
      chunks.write({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  }
  chunks.write({}, 'tool_calls');
  chunks.end(usage);
}

function streamErrorStep(exchange: Exchange, request: FakeChatRequest, step: FakeErrorStep, play: Play) {
  const { model } = request;
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  exchange.startStream(play.scripts.rateLimitHeaders(model));
  for (const piece of splitIntoChunks(step.textBefore ?? '', play.defaultChunkSize)) {
    exchange.writeEvent({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }],
    });
  }
  exchange.writeEvent(errorPayload(step.error, model));
  exchange.response.end();
  exchange.finish('error');
}

async function respondJson(
  exchange: Exchange,
  request: FakeChatRequest,
  step: FakeTextStep | FakeToolCallsStep,
  scripts: ScriptBook,
) {
  const { model } = request;
  await exchange.pause(step.firstTokenDelayMs ?? 0);
  if ('disconnectAfterChunks' in step && step.disconnectAfterChunks !== undefined) {
    await exchange.disconnect();
    return;
  }
  if ('stallAfterChunks' in step && step.stallAfterChunks !== undefined) {
    exchange.record.outcome = 'stalled';
    await exchange.waitUntilAborted();
  }
  let message: Record<string, unknown>;
  let finishReason: string;
  let usage: FakeUsage;
  if ('toolCalls' in step) {
    const calls = normaliseToolCalls(step.toolCalls);
    message = {
      role: 'assistant',
      content: step.text ?? null,
      refusal: null,
      tool_calls: calls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    };
    finishReason = 'tool_calls';
    usage = step.usage ?? {
      prompt_tokens: promptTokens(request),
      completion_tokens: estimateTokens((step.text ?? '') + calls.map((call) => call.name + call.arguments).join('')),
    };
  } else {
    message = { role: 'assistant', content: step.text, refusal: null };
    finishReason = step.finishReason ?? 'stop';
    usage = step.usage ?? { prompt_tokens: promptTokens(request), completion_tokens: estimateTokens(step.text) };
  }
  scripts.consumeQuota(model, usage);
  exchange.sendJson(
    200,
    {
      id: completionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: withTotal(usage),
    },
    scripts.rateLimitHeaders(model),
  );
  exchange.finish('ok');
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
      )
      .join('');
  }
  return '';
}

/** Deterministic, roughly OpenAI-sized: about four characters per token. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

const promptTokens = (request: FakeChatRequest) => estimateTokens(JSON.stringify(request.messages));

const completionId = () => `chatcmpl-${randomUUID().replaceAll('-', '').slice(0, 24)}`;

function splitIntoChunks(text: string, size: number): string[] {
  const characters = Array.from(text); // never split a surrogate pair (Chinese text, emoji)
  const chunks: string[] = [];
  for (let index = 0; index < characters.length; index += size) {
    chunks.push(characters.slice(index, index + size).join(''));
  }
  return chunks;
}

function hasIncludeUsage(body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options;
  return (
    typeof streamOptions === 'object' &&
    streamOptions !== null &&
    'include_usage' in streamOptions &&
    streamOptions.include_usage === true
  );
}

function withTotal(usage: FakeUsage) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

let toolCallCounter = 0;

function normaliseToolCalls(calls: FakeToolCall[]): Array<{ id: string; name: string; arguments: string }> {
  return calls.map((call) => {
    toolCallCounter += 1;
    return {
      id: call.id ?? `call_${toolCallCounter}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    };
  });
}
