import { createOpenAI } from '@ai-sdk/openai';
import { createExtractionPool } from '../attachments/extraction-pool.js';
import { createAttachmentResolver } from '../attachments/resolve-attachment.js';
import { createResourceCache } from '../attachments/resource-cache.js';
import { createVoiceTranscriber } from '../attachments/transcribe-voice.js';
import type { Config } from '../config.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { createFeishuMessageSource } from '../feishu/feishu-message-source.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { createTurnResolver, type TurnResolver } from './resolve-turn.js';

/**
 * The turn resolver the running bot uses: the extraction worker, sharp, the speech-to-text model
 * when TRANSCRIPTION_MODEL is set, the resource cache, and Feishu as the message source, all
 * bounded by the ATTACHMENT_* settings. `close` stops the extraction worker (at shutdown).
 *
 * @example
 * const { turns, close } = createTurnResolverFromConfig({ config, feishuClient, bus, log });
 */
export function createTurnResolverFromConfig({
  config,
  feishuClient,
  bus,
  log,
  botOpenId,
  nameOf,
  onImage,
}: {
  config: Pick<Config, 'attachments' | 'model'>;
  feishuClient: FeishuClient | undefined;
  bus: EventBus;
  log: Logger;
  botOpenId?: (() => Promise<string | undefined>) | undefined;
  nameOf?: ((senderId: string) => Promise<string | undefined>) | undefined;
  /** Sees each image that reaches the model (the devtools' previews). */
  onImage?: ((traceId: string, key: string, image: Uint8Array) => void) | undefined;
}): { turns: TurnResolver; close: () => Promise<void> } {
  const { attachments, model } = config;
  const extraction = createExtractionPool({ timeoutMs: attachments.extractTimeoutMs });
  const transcriber =
    model.transcriptionModel === undefined
      ? undefined
      : createVoiceTranscriber({
          model: createOpenAI({
            ...(model.baseURL === undefined ? {} : { baseURL: model.baseURL }),
            apiKey: model.apiKey ?? 'not-needed',
          }).transcription(model.transcriptionModel),
          timeoutMs: model.transcriptionTimeoutMs,
        });
  const resolver = createAttachmentResolver({
    extraction,
    ...(transcriber === undefined ? {} : { transcriber }),
    maxBytes: attachments.maxBytes,
    maxChars: attachments.textBudgetChars,
    zip: { maxUnzippedBytes: attachments.maxUnzippedBytes },
  });
  const turns = createTurnResolver({
    source:
      feishuClient === undefined
        ? undefined
        : createFeishuMessageSource({ client: feishuClient, bus, ...(botOpenId === undefined ? {} : { botOpenId }) }),
    resolver,
    cache: createResourceCache({
      ...(attachments.cacheDir === undefined ? {} : { dir: attachments.cacheDir }),
      maxBytes: attachments.cacheMaxBytes,
    }),
    limits: {
      maxBytes: attachments.maxBytes,
      maxImages: attachments.maxImages,
      downloadTimeoutMs: attachments.downloadTimeoutMs,
      memoryChars: attachments.memoryChars,
    },
    bus,
    log,
    ...(nameOf === undefined ? {} : { nameOf }),
    ...(onImage === undefined ? {} : { onImage }),
  });
  return { turns, close: () => extraction.close() };
}
