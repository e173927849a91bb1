import { defineOpenAIEndpoint } from './core.js';

/** `GET /v1/models`: `{ object: 'list', data: [{ id, object: 'model', created, owned_by }] }` of the known models. */
export const modelsEndpoint = defineOpenAIEndpoint({
  name: 'models',
  install(core) {
    core.route({
      method: 'GET',
      path: '/v1/models',
      handle(exchange) {
        const created = Math.floor(Date.now() / 1000);
        exchange.sendJson(200, {
          object: 'list',
          data: core.scripts.models().map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' })),
        });
        exchange.finish('ok');
      },
    });
    return {};
  },
});
