import type * as lark from '@larksuiteoapi/node-sdk';
import type { FeishuClient } from './feishu-client.js';

/** The SDK's per-request options (`lark.withUserAccessToken(token)`), or undefined for the tenant token. */
export type FeishuRequestOptions = ReturnType<typeof lark.withUserAccessToken> | undefined;

/**
 * Feishu as one tool call may use it: the SDK client and `call`, which runs one Open API request
 * with the tool's identity (the request options carry the user's token when the tool acts as the
 * user), times it against the tool's deadline, reports it as `feishu.api`, and turns any failure
 * into a `FeishuApiError`.
 */
export interface FeishuAccess {
  readonly client: FeishuClient;
  call<T extends { code?: number; msg?: string } | undefined | null>(
    api: string,
    request: (options: FeishuRequestOptions) => Promise<T>,
  ): Promise<T>;
}
