import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { DEFAULT_GRANTED_SCOPES } from './application-scopes.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu application scopes with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('lists the granted scopes through application.v6.scope.list, grant_status 1', async () => {
    const { client } = feishu();
    const answer = await client.application.v6.scope.list();
    expect(answer.code).toBe(0);
    const scopes = answer.data?.scopes ?? [];
    expect(scopes.map((scope) => scope.scope_name)).toEqual([...DEFAULT_GRANTED_SCOPES]);
    expect(new Set(scopes.map((scope) => scope.grant_status))).toEqual(new Set([1]));
    expect(scopes.every((scope) => scope.scope_type === 'tenant')).toBe(true);
  });

  it('reports requested but ungranted scopes with grant_status 2, and reset restores the defaults', async () => {
    const { fake, client } = feishu();
    fake.setScopes({ granted: ['im:message:send_as_bot'], notGranted: ['cardkit:card:write'] });
    const scopes = (await client.application.v6.scope.list()).data?.scopes;
    expect(scopes).toEqual([
      { scope_name: 'im:message:send_as_bot', grant_status: 1, scope_type: 'tenant' },
      { scope_name: 'cardkit:card:write', grant_status: 2, scope_type: 'tenant' },
    ]);
    expect(fake.scopes()).toEqual([
      { name: 'im:message:send_as_bot', granted: true, type: 'tenant' },
      { name: 'cardkit:card:write', granted: false, type: 'tenant' },
    ]);
    fake.reset();
    expect(fake.scopes()).toHaveLength(DEFAULT_GRANTED_SCOPES.length);
  });

  it('answers 400 with 212100 for an app the tenant has not installed', async () => {
    const { fake, client } = feishu();
    fake.inject({
      api: 'application.scope.list',
      status: 400,
      code: FEISHU_CODES.appNotInstalled,
      msg: 'app not install',
    });
    const failure = await sdkFailure(client.application.v6.scope.list());
    expect(failure).toMatchObject({ status: 400, code: 212100 });
  });
});
