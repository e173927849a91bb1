import { type FakeOpenAI, type FakeOpenAIOptions, type OpenAIEndpoint, startOpenAIServer } from './openai/core.js';
import * as registeredEndpoints from './openai/endpoints.js';

/**
 * A fake OpenAI-compatible server for tests.
 *
 * It speaks the wire format the real `@ai-sdk/openai` chat model parses (JSON and SSE, usage in
 * the last chunk with `stream_options.include_usage`, tool-call deltas split across chunks,
 * OpenAI-shaped error bodies, `retry-after` headers) over a real loopback socket, so agent tests
 * exercise the real provider, retry logic and abort handling instead of a mock.
 *
 * This file is the public entry point; the fake is a core (`openai/core.ts`: server, key check,
 * recording, aborts, the per-model script book) plus one file per endpoint
 * (`openai/chat-completions.ts`, `openai/models.ts`, …) listed in `openai/endpoints.ts`. To add
 * one (say `/v1/audio/transcriptions`), read the header of `openai/core.ts`.
 *
 * @example
 * const fake = await startFakeOpenAI();
 * fake.script('gpt-test', { text: 'Hello there', chunkSize: 3 }, { error: { status: 429, retryAfterMs: 50 } });
 * const model = createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey }).chat('gpt-test');
 * const { text } = await generateText({ model, prompt: 'hi' });
 * await fake.close();
 */

export type { FakeOpenAI, FakeOpenAIOptions } from './openai/core.js';
export type { FakeRecordedRequest, FakeRequestOutcome } from './openai/exchange.js';
export type { FakeFaultOptions, FakeRateLimit } from './openai/script-book.js';
export type {
  FakeChatRequest,
  FakeErrorSpec,
  FakeErrorStep,
  FakeFinishReason,
  FakeHangStep,
  FakeMessage,
  FakeStaticStep,
  FakeStep,
  FakeStepFunction,
  FakeTextStep,
  FakeToolCall,
  FakeToolCallsStep,
  FakeUsage,
} from './openai/steps.js';

const ENDPOINTS: readonly OpenAIEndpoint[] = Object.values(registeredEndpoints);

/**
 * Starts the fake with every registered endpoint on 127.0.0.1 with an ephemeral port.
 *
 * @example
 * const fake = await startFakeOpenAI({ models: ['primary', 'backup'] });
 * fake.alwaysFail('primary', { status: 429, retryAfterSeconds: 1 });
 */
export function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  return startOpenAIServer(ENDPOINTS, options);
}
