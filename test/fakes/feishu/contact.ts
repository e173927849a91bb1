import { defineFeishuArea, type FakeFeishu } from './core.js';
import { directoryStore, type FakeUser } from './directory-store.js';
import { fail, ok } from './reply.js';

/**
 * Contacts: `GET /open-apis/contact/v3/users/:user_id` (`user_id_type=open_id`) and
 * `GET /open-apis/contact/v3/departments/:department_id`, shaped as the SDK's
 * `contact.v3.user.get` / `contact.v3.department.get` types.
 */

declare module './core.js' {
  interface FeishuApis {
    'contact.user.get': true;
    'contact.department.get': true;
  }
  interface FakeFeishu {
    seedUser(user: Omit<FakeUser, 'departmentIds'> & { departmentIds?: string[] }): FakeUser;
    seedDepartment(department: { id: string; name: string }): void;
  }
}

export const CONTACT_CODES = {
  /** Documented: no such user (id invalid or not in the tenant). */
  contactUserNotFound: 41012,
  /** Documented: the user is outside the app's contact range ("no user authority"). */
  contactNoAuthority: 41050,
  /** The fake's pick for an unknown department (the docs list several). */
  contactDepartmentNotFound: 40003,
} as const;

export const contactArea = defineFeishuArea({
  name: 'contact',
  codes: CONTACT_CODES,
  install(core): Pick<FakeFeishu, 'seedUser' | 'seedDepartment'> {
    const directory = core.use(directoryStore);
    core.route({
      api: 'contact.user.get',
      method: 'GET',
      path: '/open-apis/contact/v3/users/:user_id',
      handle({ params }) {
        const user = directory.users.get(params.user_id ?? '');
        if (user === undefined) return fail(CONTACT_CODES.contactUserNotFound, 'user not found');
        return ok({
          user: {
            open_id: user.openId,
            union_id: `on_${user.openId.slice(3)}`,
            name: user.name,
            en_name: user.enName ?? '',
            email: user.email ?? '',
            job_title: user.jobTitle ?? '',
            city: user.city ?? '',
            department_ids: user.departmentIds,
            status: { is_frozen: false, is_resigned: false, is_activated: true, is_exited: false, is_unjoin: false },
            avatar: { avatar_72: 'https://example.invalid/a.png' },
          },
        });
      },
    });
    core.route({
      api: 'contact.department.get',
      method: 'GET',
      path: '/open-apis/contact/v3/departments/:department_id',
      handle({ params }) {
        const department = directory.departments.get(params.department_id ?? '');
        if (department === undefined) return fail(CONTACT_CODES.contactDepartmentNotFound, 'department not found');
        return ok({ department: { name: department.name, open_department_id: department.id, member_count: 1 } });
      },
    });
    return {
      seedUser(user) {
        const stored: FakeUser = { ...user, departmentIds: user.departmentIds ?? [] };
        directory.users.set(stored.openId, stored);
        return stored;
      },
      seedDepartment(department) {
        directory.departments.set(department.id, department);
      },
    };
  },
});
