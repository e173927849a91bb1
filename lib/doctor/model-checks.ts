import { generateText, type ModelMessage } from 'ai';
import { classifyModelError } from '../agents/classify-model-error.js';
import { modelProvider } from '../agents/model-provider.js';
import { agentOffReason } from '../feature-states.js';
import type { ErrorCategory } from '../observe/error-category.js';
import type { DoctorCheck } from './doctor-check.js';

/** A 1×1 PNG: the smallest image every vision model accepts. */
const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
  'base64',
);

const FIX_BY_CATEGORY: Partial<Record<ErrorCategory, string>> = {
  AUTH: 'OPENAI_API_KEY is wrong, expired or has no access to this model: create a key at the provider and set it',
  NETWORK: 'This host cannot reach OPENAI_BASE_URL (unset means api.openai.com): check the URL, firewall and proxy',
  TIMEOUT: 'The provider did not answer in time: check OPENAI_BASE_URL and the provider status page',
  RATE_LIMIT: 'The provider rate-limits this key right now: check the quota and billing, add FALLBACK_MODELS',
};

async function oneToken(modelId: string, messages: ModelMessage[], { model, timeoutMs }: ModelRequest) {
  const started = performance.now();
  await generateText({
    model: modelProvider(model)(modelId),
    messages,
    maxOutputTokens: 1,
    // One question, one answer: the doctor reports what the provider says, it does not retry.
    maxRetries: 0,
    abortSignal: AbortSignal.timeout(timeoutMs),
  });
  return Math.round(performance.now() - started);
}

interface ModelRequest {
  model: Parameters<typeof modelProvider>[0];
  timeoutMs: number;
}

const PROMPT: ModelMessage[] = [{ role: 'user', content: 'Reply with the single word OK.' }];

/** MODEL answers a one-token request as the bot would ask it; each fallback is asked too. */
export const modelAnswersCheck: DoctorCheck = {
  id: 'model',
  title: 'Model',
  async run(context) {
    const { model } = context.config;
    const off = agentOffReason(model);
    if (off !== undefined || model.primary === undefined) {
      return {
        status: 'fail',
        summary: `${off ?? 'no model'}: the agent is off, nobody gets an answer`,
        fix: 'Set MODEL (e.g. gpt-4o-mini) and OPENAI_API_KEY; for another OpenAI-compatible provider (DeepSeek, Qwen, Ollama, vLLM) also OPENAI_BASE_URL',
      };
    }
    const request = { model, timeoutMs: context.timeouts.modelMs };
    const where = model.baseURL ?? 'https://api.openai.com/v1';
    const details: string[] = [];
    let primaryFailure: { summary: string; fix?: string } | undefined;
    let fallbackFailures = 0;
    for (const [index, id] of [model.primary, ...model.fallbacks].entries()) {
      const role = index === 0 ? 'MODEL' : 'fallback';
      try {
        const ms = await oneToken(id, PROMPT, request);
        details.push(`✔ ${role} ${id} answered in ${ms} ms`);
      } catch (error) {
        const classified = classifyModelError(error);
        const said = `${classified.category}: ${classified.message}`;
        details.push(`✖ ${role} ${id}: ${said}`);
        if (index === 0) {
          const fix = FIX_BY_CATEGORY[classified.category] ?? `Check that ${where} serves a model named ${id} (MODEL)`;
          primaryFailure = { summary: `${id} at ${where} did not answer: ${said}`, fix };
        } else fallbackFailures += 1;
      }
    }
    if (primaryFailure !== undefined) return { status: 'fail', ...primaryFailure, details };
    context.modelAnswered = true;
    if (fallbackFailures > 0) {
      return {
        status: 'warn',
        summary: `${model.primary} answers; ${fallbackFailures} of ${model.fallbacks.length} fallback(s) do not`,
        details,
        fix: 'Fix or remove the failing names in FALLBACK_MODELS: they are what answers during an outage of MODEL',
      };
    }
    return { status: 'pass', summary: `${model.primary} at ${where} answers`, details };
  },
};

/** Whether MODEL takes images: a text-only model cannot read screenshots, which is worth knowing, not fatal. */
export const modelImagesCheck: DoctorCheck = {
  id: 'model-images',
  title: 'Images',
  async run(context) {
    const { primary } = context.config.model;
    if (context.modelAnswered !== true || primary === undefined) {
      return { status: 'skip', summary: 'needs a model that answers (see above)' };
    }
    try {
      await oneToken(
        primary,
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What colour is this pixel? One word.' },
              { type: 'image', image: ONE_PIXEL_PNG, mediaType: 'image/png' },
            ],
          },
        ],
        { model: context.config.model, timeoutMs: context.timeouts.modelMs },
      );
      return { status: 'pass', summary: `${primary} accepts images` };
    } catch (error) {
      const classified = classifyModelError(error);
      return {
        status: 'warn',
        summary: `${primary} does not accept images: ${classified.message}`,
        fix: 'Screenshots and photos need a vision-capable model: choose one for MODEL, or a separate vision model for turns with images',
      };
    }
  },
};
