import { describe, expect, it } from 'vitest';
import { buildUserDeletedEvent } from '../../test/fakes/event-sender.js';
import { readEnvelope, toInboundEvent } from '../feishu/webhook/event-envelope.js';
import type { JobContext } from '../inbox/job-handler.js';
import { silentLogger } from '../log.js';
import { departedOpenId, personDepartedHandler } from './person-departed.js';

function contextFor(payload: unknown): JobContext {
  return {
    job: { id: 'event:ev', payload } as JobContext['job'],
    signal: new AbortController().signal,
    saveCheckpoint: async () => {},
    idempotencyKey: (part) => part,
  };
}

describe('person departed', () => {
  it('keeps only the open_id of a webhook contact.user.deleted_v3 event', () => {
    const envelope = readEnvelope(buildUserDeletedEvent({ openId: 'ou_gone', eventId: 'ev' }));
    if (envelope.kind !== 'event') throw new Error('not an event');
    const inbound = toInboundEvent(envelope, 'webhook', 1);
    expect(inbound).toMatchObject({ eventType: 'contact.user.deleted_v3', event: { object: { open_id: 'ou_gone' } } });
    expect(JSON.stringify(inbound)).not.toContain('departed@example.com');
    expect(departedOpenId(inbound)).toBe('ou_gone');
  });

  it('forgets the person the job names, and ignores a payload without one', async () => {
    const forgotten: string[] = [];
    const handler = personDepartedHandler({
      authorization: {
        forgetDeparted: async (userId) => {
          forgotten.push(userId);
          return { tokens: true, pending: 0 };
        },
      },
      log: silentLogger(),
    });
    await handler(contextFor({ eventType: 'contact.user.deleted_v3', event: { object: { open_id: 'ou_gone' } } }));
    await handler(contextFor({ eventType: 'contact.user.deleted_v3', event: { object: {} } }));
    await handler(contextFor(null));
    expect(forgotten).toEqual(['ou_gone']);
  });
});
