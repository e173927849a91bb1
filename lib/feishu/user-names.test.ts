import { describe, expect, it, vi } from 'vitest';
import { useFakeFeishuPerTest } from '../../test/fakes/feishu/sdk-harness.js';
import { createEventBus } from '../observe/event-bus.js';
import { createUserNames } from './user-names.js';

describe('createUserNames (real SDK against the fake Feishu)', () => {
  const feishu = useFakeFeishuPerTest();

  function names(options: { maxEntries?: number } = {}) {
    const clock = { now: 1_000_000 };
    const { client } = feishu();
    const resolver = createUserNames({
      client,
      bus: createEventBus(),
      ttlMs: 60_000,
      failureTtlMs: 10_000,
      now: () => clock.now,
      ...options,
    });
    return { resolver, clock };
  }
  const lookups = () => feishu().fake.callsTo('contact.user.get').length;

  it('looks a name up once, shares concurrent asks, and answers from the cache after', async () => {
    const { fake } = feishu();
    fake.seedUser({ openId: 'ou_ann', name: 'Ann' });
    const { resolver } = names();
    expect(await Promise.all([resolver.name('ou_ann'), resolver.name('ou_ann')])).toEqual(['Ann', 'Ann']);
    expect(await resolver.name('ou_ann')).toBe('Ann');
    expect(lookups()).toBe(1);
  });

  it('refreshes an old name in the background and keeps it through an outage', async () => {
    const { fake } = feishu();
    fake.seedUser({ openId: 'ou_ann', name: 'Ann' });
    const { resolver, clock } = names();
    await resolver.name('ou_ann');
    fake.seedUser({ openId: 'ou_ann', name: 'Ann Lee' });
    clock.now += 61_000;
    expect(await resolver.name('ou_ann')).toBe('Ann'); // stale answer at once, refresh under way
    await vi.waitFor(async () => expect(await resolver.name('ou_ann')).toBe('Ann Lee'));
    expect(lookups()).toBe(2);
    clock.now += 61_000;
    fake.inject({ api: 'contact.user.get', status: 503 });
    await resolver.name('ou_ann');
    await fake.waitFor(() => lookups() === 3);
    await vi.waitFor(async () => expect(await resolver.name('ou_ann')).toBe('Ann Lee'));
    expect(lookups()).toBe(3);
  });

  it('does not hammer Feishu for a person it cannot read, and forgets the least recent beyond its bound', async () => {
    const { fake } = feishu();
    const { resolver, clock } = names({ maxEntries: 2 });
    fake.inject({ api: 'contact.user.get', code: 41050, msg: 'no user authority', times: 1 });
    expect(await resolver.name('ou_hidden')).toBeUndefined();
    expect(await resolver.name('ou_hidden')).toBeUndefined();
    expect(lookups()).toBe(1);
    clock.now += 11_000;
    fake.seedUser({ openId: 'ou_hidden', name: 'Now visible' });
    expect(await resolver.name('ou_hidden')).toBe('Now visible');
    fake.seedUser({ openId: 'ou_b', name: 'B' });
    fake.seedUser({ openId: 'ou_c', name: 'C' });
    await resolver.name('ou_b');
    await resolver.name('ou_c');
    const before = lookups();
    await resolver.name('ou_hidden'); // evicted by b and c: looked up again
    expect(lookups()).toBe(before + 1);
    expect(await resolver.name('not-an-open-id')).toBeUndefined();
  });
});
