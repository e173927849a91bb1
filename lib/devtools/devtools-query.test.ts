import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { readFilter, readInteger } from './devtools-query.js';

const app = new Hono().get('/', (c) => c.json({ filter: readFilter(c) }));
async function filterOf(query: string): Promise<unknown> {
  return ((await (await app.request(`/?${query}`)).json()) as { filter: unknown }).filter;
}

describe('readFilter', () => {
  it('reads every filter, splitting and trimming the type list', async () => {
    expect(
      await filterOf('type=tool.call,%20agent.call,&agent=manager&tool=search&chat=oc_1&status=dead&trace=t1&q=Paris'),
    ).toEqual({
      types: ['tool.call', 'agent.call'],
      agent: 'manager',
      tool: 'search',
      chat: 'oc_1',
      status: 'dead',
      traceId: 't1',
      text: 'Paris',
    });
  });

  it('leaves out empty values and says what is wrong with a status', async () => {
    expect(await filterOf('type=,&agent=&q=')).toEqual({});
    expect(await filterOf('status=bogus')).toBe('status must be one of running, done, failed, dead');
  });
});

describe('readInteger', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['12', 12],
    ['-3', -3],
    ['1.5', undefined],
    ['abc', undefined],
    ['9007199254740993', undefined],
  ])('reads %j as %j', (value, expected) => {
    expect(readInteger(value)).toBe(expected);
  });
});
