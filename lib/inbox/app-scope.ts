/**
 * The app a message came in through is part of every key of its conversation: the same group
 * message reaches each bot in the group under the same message id, and each bot answers it in its
 * own job, lane and memory.
 */

/**
 * The app served by FEISHU_APP_ID (and the devtools playground when it names no other app). Its
 * keys carry no prefix, so they are the ones a single-app deployment stored before it served more apps.
 */
export const DEFAULT_APP_ID = 'default';

/**
 * `key` inside app `appId`'s key space.
 *
 * @example
 * appScoped(undefined, 'chat:oc_1'); // 'chat:oc_1'
 * appScoped('default', 'chat:oc_1'); // 'chat:oc_1'
 * appScoped('alpha', 'chat:oc_1');   // 'app:alpha:chat:oc_1'
 */
export function appScoped(appId: string | undefined, key: string): string {
  return appId === undefined || appId === DEFAULT_APP_ID ? key : `app:${appId}:${key}`;
}

/**
 * The `appId` field of what is stored for app `appId` (an inbound event, a proactive target): none
 * for the default app, whose records stay as they were stored before there were several apps.
 *
 * @example
 * appIdField('default'); // {}
 * appIdField('beta');    // { appId: 'beta' }
 */
export function appIdField(appId: string | undefined): { appId?: string } {
  return appId === undefined || appId === DEFAULT_APP_ID ? {} : { appId };
}

/**
 * The app whose key space `key` is in: the inverse of `appScoped`, so anything labelled by a job
 * or trace id (metrics, spend) knows its app without carrying it.
 *
 * @example
 * appOfKey('app:alpha:message:om_1'); // 'alpha'
 * appOfKey('message:om_1');           // 'default'
 */
export function appOfKey(key: string): string {
  if (!key.startsWith('app:')) return DEFAULT_APP_ID;
  const end = key.indexOf(':', 4);
  return end < 0 ? DEFAULT_APP_ID : key.slice(4, end);
}
