import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu wiki with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('resolves a node, lists children, and searches only for a user', async () => {
    const { fake, client } = feishu();
    const root = fake.seedWikiNode({ spaceId: 's1', objToken: 'Doxcn1', objType: 'docx', title: 'Handbook' });
    fake.seedWikiNode({ spaceId: 's1', objToken: 'Shtcn1', objType: 'sheet', title: 'Budget', parentNodeToken: root });
    const node = await client.wiki.v2.space.getNode({ params: { token: root } });
    expect(node.data?.node).toMatchObject({ obj_token: 'Doxcn1', obj_type: 'docx', has_child: true, space_id: 's1' });
    const children = await client.wiki.v2.spaceNode.list({
      path: { space_id: 's1' },
      params: { parent_node_token: root },
    });
    expect(children.data?.items?.map((item) => item.title)).toEqual(['Budget']);
    const asApp = await sdkFailure(client.wiki.v1.node.search({ data: { query: 'budget' } }));
    expect(asApp.code).toBe(FEISHU_CODES.wikiUserTokenRequired);
    const asUser = await client.wiki.v1.node.search(
      { data: { query: 'budget' } },
      lark.withUserAccessToken(fake.issueUserToken('ou_someone')),
    );
    expect(asUser.data?.items.map((item) => item.title)).toEqual(['Budget']);
  });
});
