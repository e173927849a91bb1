import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Config } from '../config.js';

/**
 * The provider models for a config: `createOpenAI({ baseURL, apiKey }).chat(id)`, the Chat
 * Completions API every OpenAI-compatible server speaks (OpenAI, DeepSeek, Qwen, Ollama, vLLM).
 * The model chain and `npm run doctor` both build their models here, so the doctor asks the
 * provider exactly as the bot does.
 *
 * @example
 * const modelFor = modelProvider(config.model);
 * await generateText({ model: modelFor('gpt-4o-mini'), prompt: 'hi' });
 */
export function modelProvider(
  model: Pick<Config['model'], 'baseURL' | 'apiKey'>,
  {
    onResponse,
  }: {
    /**
     * Told when a response starts (status and headers, before any body), with the request's
     * abort signal to say which request it was: the model chain's concurrency limit grows on it.
     */
    onResponse?: (signal: AbortSignal | undefined, response: Response) => void;
  } = {},
): (id: string) => LanguageModelV3 {
  const provider = createOpenAI({
    ...(model.baseURL === undefined ? {} : { baseURL: model.baseURL }),
    // Local servers (Ollama, vLLM) need no key, but the provider insists on one.
    apiKey: model.apiKey ?? 'not-needed',
    ...(onResponse === undefined
      ? {}
      : {
          fetch: async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
            const response = await fetch(input, init);
            try {
              onResponse(init?.signal ?? undefined, response);
            } catch {
              // An observer must never break the request.
            }
            return response;
          },
        }),
  });
  return (id) => provider.chat(id);
}
