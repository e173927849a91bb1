import { z } from 'zod';
import { readResponse } from '../agents/tools/feishu/response.js';
import type { FeishuAccess } from './feishu-access.js';

const user = z.looseObject({
  open_id: z.string().optional(),
  name: z.string().optional(),
  en_name: z.string().optional(),
  nickname: z.string().optional(),
  email: z.string().optional(),
  job_title: z.string().optional(),
  city: z.string().optional(),
  department_ids: z.array(z.string()).optional(),
  status: z.looseObject({ is_resigned: z.boolean().optional() }).optional(),
});
export type ContactUser = z.output<typeof user>;

/** A person by open_id (`contact.v3.user.get`). */
export async function fetchUser(feishu: Pick<FeishuAccess, 'call' | 'client'>, openId: string): Promise<ContactUser> {
  const body = await feishu.call('contact.v3.user.get', (options) =>
    feishu.client.contact.v3.user.get(
      { path: { user_id: openId }, params: { user_id_type: 'open_id', department_id_type: 'open_department_id' } },
      options,
    ),
  );
  return readResponse(z.object({ user }), body?.data, 'contact.v3.user.get').user;
}

/** A department's name (`contact.v3.department.get`). */
export async function fetchDepartmentName(
  feishu: Pick<FeishuAccess, 'call' | 'client'>,
  departmentId: string,
): Promise<string | undefined> {
  const body = await feishu.call('contact.v3.department.get', (options) =>
    feishu.client.contact.v3.department.get(
      { path: { department_id: departmentId }, params: { department_id_type: 'open_department_id' } },
      options,
    ),
  );
  return readResponse(
    z.object({ department: z.looseObject({ name: z.string().optional() }) }),
    body?.data,
    'contact.v3.department.get',
  ).department.name;
}
