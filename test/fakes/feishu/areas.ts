/**
 * Every API area the fake Feishu serves; `startFakeFeishu` installs them all. Adding an area is
 * its file plus one line here (keep the lines sorted, so parallel additions merge cleanly).
 */
export { applicationScopesArea } from './application-scopes.js';
export { authArea } from './auth.js';
export { bitableArea } from './bitable.js';
export { botInfoArea } from './bot-info.js';
export { calendarArea } from './calendar.js';
export { cardkitArea } from './cardkit.js';
export { chatsArea } from './chats.js';
export { contactArea } from './contact.js';
export { docxArea } from './docx.js';
export { imMessagesArea } from './im-messages.js';
export { messageResourcesArea } from './message-resources.js';
export { oauthArea } from './oauth.js';
export { reactionsArea } from './reactions.js';
export { searchArea } from './search.js';
export { sheetsArea } from './sheets.js';
export { taskArea } from './task.js';
export { wikiArea } from './wiki.js';
