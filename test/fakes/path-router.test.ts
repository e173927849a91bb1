import { describe, expect, it } from 'vitest';
import { createRouter } from './path-router.js';

describe('path router of the fakes', () => {
  it('matches documented path templates and decodes the parameters by name', () => {
    const router = createRouter<{ method: string; path: string }>();
    router.add({ method: 'DELETE', path: '/open-apis/im/v1/messages/:message_id/reactions/:reaction_id' });
    expect(router.match('DELETE', '/open-apis/im/v1/messages/om_1/reactions/r%2F2')?.params).toEqual({
      message_id: 'om_1',
      reaction_id: 'r/2',
    });
    expect(router.match('GET', '/open-apis/im/v1/messages/om_1/reactions/r2')).toBeUndefined();
    expect(router.match('DELETE', '/open-apis/im/v1/messages/om_1/reactions')).toBeUndefined();
  });

  it('prefers a literal segment over a parameter whatever the registration order', () => {
    for (const order of [
      ['/open-apis/contact/v3/users/:user_id', '/open-apis/contact/v3/users/batch'],
      ['/open-apis/contact/v3/users/batch', '/open-apis/contact/v3/users/:user_id'],
    ]) {
      const router = createRouter<{ method: string; path: string }>();
      for (const path of order) router.add({ method: 'GET', path });
      expect(router.match('GET', '/open-apis/contact/v3/users/batch')?.route.path).toBe(
        '/open-apis/contact/v3/users/batch',
      );
      expect(router.match('GET', '/open-apis/contact/v3/users/ou_1')?.params).toEqual({ user_id: 'ou_1' });
    }
  });

  it('refuses the same method and template twice, whatever the parameter names', () => {
    const router = createRouter<{ method: string; path: string }>();
    router.add({ method: 'GET', path: '/open-apis/im/v1/messages/:message_id' });
    router.add({ method: 'PUT', path: '/open-apis/im/v1/messages/:message_id' });
    expect(() => router.add({ method: 'GET', path: '/open-apis/im/v1/messages/:id' })).toThrow(/registered twice/);
  });
});
