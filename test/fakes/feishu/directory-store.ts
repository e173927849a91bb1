import type { FeishuCore } from './core.js';

/** A person in the fake's contact directory. */
export interface FakeUser {
  openId: string;
  name: string;
  enName?: string;
  email?: string;
  jobTitle?: string;
  city?: string;
  departmentIds: string[];
}

/** The contact directory several areas read (contact lookups, user search), one per fake. */
export interface DirectoryStore {
  users: Map<string, FakeUser>;
  departments: Map<string, { id: string; name: string }>;
}

/**
 * @example
 * const directory = core.use(directoryStore);
 * directory.users.get('ou_1')?.name;
 */
export function directoryStore(core: FeishuCore): DirectoryStore {
  const store: DirectoryStore = { users: new Map(), departments: new Map() };
  core.onReset(() => {
    store.users.clear();
    store.departments.clear();
  });
  return store;
}
