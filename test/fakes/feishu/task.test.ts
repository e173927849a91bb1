import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu tasks with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it("lists only the calling user's tasks, by completion, and refuses the tenant token", async () => {
    const { fake, client } = feishu();
    const guid = fake.seedTask({ assignee: 'ou_a', summary: 'Open one', due: 1_800_000_000_000 });
    fake.seedTask({ assignee: 'ou_a', summary: 'Done one', completedAt: 1_700_000_000_000 });
    fake.seedTask({ assignee: 'ou_b', summary: 'Not mine' });
    const asUser = lark.withUserAccessToken(fake.issueUserToken('ou_a'));
    const open = await client.task.v2.task.list({ params: { type: 'my_tasks', completed: false } }, asUser);
    expect(open.data?.items?.map((task) => task.summary)).toEqual(['Open one']);
    expect(open.data?.items?.[0]?.due?.timestamp).toBe('1800000000000');
    const detail = await client.task.v2.task.get({ path: { task_guid: guid } }, asUser);
    expect(detail.data?.task?.summary).toBe('Open one');
    const asApp = await sdkFailure(client.task.v2.task.list({ params: { type: 'my_tasks' } }));
    expect(asApp.code).toBe(FEISHU_CODES.taskUserTokenRequired);
  });
});
