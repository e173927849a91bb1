import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../log.js';
import {
  type CardCheckpoint,
  CheckpointNotSavedError,
  cardCheckpoint,
  createCheckpointSaver,
  parseCardCheckpoint,
} from './card-checkpoint.js';

describe('cardCheckpoint / parseCardCheckpoint', () => {
  it('keeps card ids and the message ids of sent cards, and reads them back', () => {
    const checkpoint = cardCheckpoint('card', [
      { cardId: 'card_1', messageId: 'om_1' },
      { cardId: 'card_2', messageId: undefined },
    ]);
    expect(checkpoint).toEqual({
      kind: 'feishu-reply',
      version: 1,
      mode: 'card',
      cards: [{ cardId: 'card_1', messageId: 'om_1' }, { cardId: 'card_2' }],
    });
    expect(parseCardCheckpoint(JSON.parse(JSON.stringify(checkpoint)))).toEqual(checkpoint);
    expect(parseCardCheckpoint(cardCheckpoint('text', []))).toEqual({
      kind: 'feishu-reply',
      version: 1,
      mode: 'text',
      cards: [],
    });
  });

  it.each([
    ['nothing', undefined],
    ['another kind', { kind: 'other', version: 1, mode: 'card', cards: [] }],
    ['a later version', { kind: 'feishu-reply', version: 2, mode: 'card', cards: [] }],
    ['an unknown mode', { kind: 'feishu-reply', version: 1, mode: 'voice', cards: [] }],
    ['cards that are not a list', { kind: 'feishu-reply', version: 1, mode: 'card', cards: {} }],
    ['an empty card id', { kind: 'feishu-reply', version: 1, mode: 'card', cards: [{ cardId: '' }] }],
    [
      'a numeric message id',
      { kind: 'feishu-reply', version: 1, mode: 'card', cards: [{ cardId: 'c', messageId: 1 }] },
    ],
  ])('ignores %s', (_name, value) => {
    expect(parseCardCheckpoint(value)).toBeUndefined();
  });
});

describe('createCheckpointSaver', () => {
  const checkpoint: CardCheckpoint = cardCheckpoint('card', [{ cardId: 'card_1', messageId: undefined }]);
  const failing = async () => {
    throw new Error('store unavailable');
  };

  it('hands the checkpoint to the job', async () => {
    const saved: CardCheckpoint[] = [];
    const save = createCheckpointSaver({
      saveCheckpoint: async (value) => {
        saved.push(value);
      },
      log: silentLogger(),
      traceId: 'job-1',
    });
    await save(checkpoint);
    expect(saved).toEqual([checkpoint]);
  });

  it('throws CheckpointNotSavedError when the save is required and fails', async () => {
    const save = createCheckpointSaver({ saveCheckpoint: failing, log: silentLogger(), traceId: 'job-1' });
    const error = await save(checkpoint, { required: true }).catch((thrown: unknown) => thrown);
    expect(CheckpointNotSavedError.isInstance(error)).toBe(true);
    expect((error as CheckpointNotSavedError).code).toBe('REPLY_CHECKPOINT_NOT_SAVED');
    expect((error as Error).message).toContain('store unavailable');
  });

  it('logs a warning and carries on when an optional save fails', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const log = createLogger({ destination, pretty: false });
    const save = createCheckpointSaver({ saveCheckpoint: failing, log, traceId: 'job-1' });
    await expect(save(checkpoint)).resolves.toBeUndefined();
    const entry = JSON.parse(lines.at(-1) ?? '{}');
    expect(entry).toMatchObject({ level: 40, traceId: 'job-1', msg: 'could not save the reply checkpoint' });
  });

  it('saves nothing without a saveCheckpoint', async () => {
    const save = createCheckpointSaver({ saveCheckpoint: undefined, log: silentLogger(), traceId: 'job-1' });
    await expect(save(checkpoint, { required: true })).resolves.toBeUndefined();
  });
});
