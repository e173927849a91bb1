import { defineFeishuArea } from './core.js';

/** Bot info: `GET /open-apis/bot/v3/info`, with `bot` at the top level (not under `data`), as Feishu answers. */

declare module './core.js' {
  interface FeishuApis {
    'bot.info': true;
  }
}

export const botInfoArea = defineFeishuArea({
  name: 'bot-info',
  install(core) {
    core.route({
      api: 'bot.info',
      method: 'GET',
      path: '/open-apis/bot/v3/info',
      // The bot of the app whose tenant token asks.
      handle: ({ caller }) => {
        const app = (caller.kind === 'tenant' ? caller.app : undefined) ?? core.apps[0];
        return {
          status: 200,
          body: {
            code: 0,
            msg: 'ok',
            bot: {
              activate_status: 2,
              app_name: app?.botName ?? core.botName,
              avatar_url: '',
              ip_white_list: [],
              open_id: app?.botOpenId ?? core.botOpenId,
            },
          },
        };
      },
    });
    return {};
  },
});
