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
}): {
  turns: TurnResolver;
  /**
   * The same worker, cache and transcriber reading another Feishu app's messages with that app's
   * client (several apps in one process). Job ids are unique across apps, so one cache serves all.
   */
  forApp: (app: {
    feishuClient: FeishuClient | undefined;
    botOpenId?: (() => Promise<string | undefined>) | undefined;
    nameOf?: ((senderId: string) => Promise<string | undefined>) | undefined;
  }) => TurnResolver;
  close: () => Promise<void>;
} {
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
  const cache = createResourceCache({
    ...(attachments.cacheDir === undefined ? {} : { dir: attachments.cacheDir }),
    maxBytes: attachments.cacheMaxBytes,
  });
  const forApp = (app: {
    feishuClient: FeishuClient | undefined;
    botOpenId?: (() => Promise<string | undefined>) | undefined;
    nameOf?: ((senderId: string) => Promise<string | undefined>) | undefined;
  }) =>
    createTurnResolver({
      source:
        app.feishuClient === undefined
          ? undefined
          : createFeishuMessageSource({
              client: app.feishuClient,
              bus,
              ...(app.botOpenId === undefined ? {} : { botOpenId: app.botOpenId }),
            }),
      resolver,
      cache,
      limits: {
        maxBytes: attachments.maxBytes,
        maxImages: attachments.maxImages,
        downloadTimeoutMs: attachments.downloadTimeoutMs,
        memoryChars: attachments.memoryChars,
      },
      bus,
      log,
      ...(app.nameOf === undefined ? {} : { nameOf: app.nameOf }),
      ...(onImage === undefined ? {} : { onImage }),
    });
  const turns = forApp({ feishuClient, botOpenId, nameOf });
  return { turns, forApp, close: () => extraction.close() };
}
