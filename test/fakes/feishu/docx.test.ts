import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu docx with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('lists a document’s blocks page by page, the page block first', async () => {
    const { fake, client } = feishu();
    const id = fake.seedDocument({ title: 'Plan', parts: [{ heading: 2, text: 'Goals' }, { bullet: 'ship' }] });
    const first = await client.docx.v1.documentBlock.list({ path: { document_id: id }, params: { page_size: 2 } });
    expect(first.data?.items?.map((block) => block.block_type)).toEqual([1, 4]);
    expect(first.data?.items?.[0]?.page?.elements[0]?.text_run?.content).toBe('Plan');
    expect(first.data?.has_more).toBe(true);
    const second = await client.docx.v1.documentBlock.list({
      path: { document_id: id },
      params: { page_size: 2, page_token: first.data?.page_token ?? '' },
    });
    expect(second.data?.items?.[0]?.bullet?.elements[0]?.text_run?.content).toBe('ship');
    expect(second.data?.has_more).toBe(false);
    const raw = await client.docx.v1.document.rawContent({ path: { document_id: id } });
    expect(raw.data?.content).toBe('Plan\nGoals\nship\n');
  });

  it('answers an unknown document with the documented not-found code', async () => {
    const { client } = feishu();
    const failure = await sdkFailure(client.docx.v1.documentBlock.list({ path: { document_id: 'DoxcnMissing000' } }));
    expect(failure).toMatchObject({ status: 404, code: FEISHU_CODES.docNotFound });
  });
});
