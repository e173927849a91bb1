import { AsyncLocalStorage } from 'node:async_hooks';
import * as lark from '@larksuiteoapi/node-sdk';

const current = new AsyncLocalStorage<AbortSignal>();
let installed = false;

/**
 * Runs `work` so that every Feishu request the SDK starts inside it is cancelled when `signal`
 * aborts (a stopped answer, a tool's deadline): the HTTP request is closed, not left running in the
 * background. The SDK's request options carry no signal, so it travels in an AsyncLocalStorage
 * and a request interceptor on the SDK's HTTP instance (`installRequestSignal`) applies it.
 *
 * @example
 * await withRequestSignal(controller.signal, () => client.docx.v1.documentBlock.list({ path }));
 */
export function withRequestSignal<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return current.run(signal, work);
}

/**
 * Adds the interceptor to the SDK's shared HTTP instance, once per process. Token requests are
 * left alone: the SDK shares one token fetch among callers, and one stopped tool must not fail
 * the others'.
 */
export function installRequestSignal(): void {
  if (installed) return;
  installed = true;
  lark.defaultHttpInstance.interceptors.request.use((config) => {
    const signal = current.getStore();
    if (signal === undefined || config.signal !== undefined) return config;
    if ((config.url ?? '').includes('/auth/v3/')) return config;
    config.signal = signal;
    return config;
  });
}
