import { z } from 'zod';
import { fetchDepartmentName, fetchUser } from '../../../feishu/contacts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';

/** Departments named at most (one request each). */
const MAX_DEPARTMENTS = 3;

/** `getUser`: who an open_id is: name, department, job title, email. */
export const getUserTool = defineTool({
  name: 'getUser',
  description: 'Who a Feishu user is, by open_id (ou_…): name, English name, department, job title, city, email.',
  inputSchema: z.object({
    openId: z
      .string()
      .trim()
      .regex(/^ou_[A-Za-z0-9]+$/, 'an open_id such as ou_…'),
  }),
  scopes: ['contact:user.base:readonly', 'contact:department.base:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ openId }, { feishu }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const person = await fetchUser(feishu, openId);
    const departments: string[] = [];
    for (const id of (person.department_ids ?? []).slice(0, MAX_DEPARTMENTS)) {
      // A department the app may not see must not hide the person: its id stands in.
      departments.push((await fetchDepartmentName(feishu, id).catch(() => undefined)) ?? id);
    }
    return [
      `Name: ${person.name ?? '(unknown)'}${person.en_name && person.en_name !== person.name ? ` (${person.en_name})` : ''}`,
      `open_id: ${person.open_id ?? openId}`,
      ...(departments.length > 0 ? [`Department: ${departments.join(', ')}`] : []),
      ...(person.job_title ? [`Job title: ${person.job_title}`] : []),
      ...(person.city ? [`City: ${person.city}`] : []),
      ...(person.email ? [`Email: ${person.email}`] : []),
      ...(person.status?.is_resigned ? ['Status: has left the company'] : []),
    ].join('\n');
  },
});
