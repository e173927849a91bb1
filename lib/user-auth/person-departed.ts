import type { InboundEvent } from '../inbox/inbound-event.js';
import type { JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { FeishuUserAuthorization } from './feishu-user-authorization.js';

/** Feishu's event for a person deleted from the contacts (they left the company). */
export const USER_DELETED_EVENT = 'contact.user.deleted_v3';
/** The job kind it becomes. */
export const PERSON_DEPARTED_KIND = 'person-departed';

/**
 * The departed person's open_id from a `contact.user.deleted_v3` job payload (`event.object`),
 * or undefined when it has none.
 */
export function departedOpenId(payload: unknown): string | undefined {
  const event = (payload as Partial<InboundEvent> | null)?.event as { object?: { open_id?: unknown } } | undefined;
  const openId = event?.object?.open_id;
  return typeof openId === 'string' && openId !== '' ? openId : undefined;
}

/**
 * The event body kept for the job: only the open_id. The deleted user's contact card (name,
 * mobile, email) is not stored with the job.
 */
export function departedBody(openId: string | undefined): { object: { open_id?: string } } {
  return { object: openId === undefined ? {} : { open_id: openId } };
}

/**
 * The job for a person who left: forgets their sealed tokens and pending authorizations, so
 * nothing keeps acting as them. Runs again harmlessly on a redelivery.
 *
 * @example
 * handlers[PERSON_DEPARTED_KIND] = personDepartedHandler({ authorization, log });
 */
export function personDepartedHandler({
  authorization,
  log,
}: {
  authorization: Pick<FeishuUserAuthorization, 'forgetDeparted'>;
  log: Logger;
}): JobHandler {
  return async ({ job }) => {
    const userId = departedOpenId(job.payload);
    if (userId === undefined) {
      log.warn({ traceId: job.id }, 'user-deleted event without an open_id ignored');
      return;
    }
    const { tokens, pending } = await authorization.forgetDeparted(userId);
    log.info({ traceId: job.id, userId, tokens, pending }, 'a person left: their authorization is forgotten');
  };
}
