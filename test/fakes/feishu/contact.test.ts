import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu contacts and search with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('gets a user and a department, finds people by name as a user, and searches documents', async () => {
    const { fake, client } = feishu();
    fake.seedDepartment({ id: 'od-1', name: 'Sales' });
    fake.seedUser({ openId: 'ou_a', name: 'Ann Lee', departmentIds: ['od-1'] });
    const user = await client.contact.v3.user.get({ path: { user_id: 'ou_a' }, params: { user_id_type: 'open_id' } });
    expect(user.data?.user).toMatchObject({ name: 'Ann Lee', department_ids: ['od-1'] });
    const department = await client.contact.v3.department.get({ path: { department_id: 'od-1' } });
    expect(department.data?.department?.name).toBe('Sales');
    expect((await sdkFailure(client.contact.v3.user.get({ path: { user_id: 'ou_x' } }))).code).toBe(
      FEISHU_CODES.contactUserNotFound,
    );
    const asUser = lark.withUserAccessToken(fake.issueUserToken('ou_a'));
    const people = await client.request<{ data: { users: Array<{ open_id: string }> } }>(
      { method: 'GET', url: '/open-apis/search/v1/user', params: { query: 'ann' } },
      asUser,
    );
    expect(people.data.users.map((person) => person.open_id)).toEqual(['ou_a']);
    fake.seedSearchDocument({ title: 'Sales plan', type: 'SHEET', visibleTo: ['ou_a'] });
    const docs = await client.search.v2.docWiki.search({ data: { query: 'plan' } }, asUser);
    expect(docs.data?.res_units?.[0]?.title_highlighted).toBe('Sales <h>plan</h>');
    const asApp = await sdkFailure(client.search.v2.docWiki.search({ data: { query: 'plan' } }));
    expect(asApp.code).toBe(FEISHU_CODES.searchUserTokenRequired);
  });
});
