/**
 * Every API area the fake Feishu serves; `startFakeFeishu` installs them all. Adding an area is
 * its file plus one line here (keep the lines sorted, so parallel additions merge cleanly).
 */
export { applicationScopesArea } from './application-scopes.js';
export { authArea } from './auth.js';
export { botInfoArea } from './bot-info.js';
export { cardkitArea } from './cardkit.js';
export { imMessagesArea } from './im-messages.js';
export { reactionsArea } from './reactions.js';
