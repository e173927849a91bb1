import * as oauth from 'oauth4webapi';

/** Tokens from Feishu's token endpoint, with absolute expiry times. */
export interface UserTokenSet {
  accessToken: string;
  refreshToken?: string | undefined;
  /** Epoch ms when the access token stops working. */
  expiresAt: number;
  /** Epoch ms when the refresh token stops working (unknown: undefined). */
  refreshExpiresAt?: number | undefined;
  /** Scopes the user granted (Feishu answers them space-separated). */
  scopes: string[];
}

/** The token endpoint refused the code or the refresh token (`invalid_grant`): authorize again. */
export class AuthorizationRevokedError extends Error {
  readonly code = 'USER_AUTHORIZATION_REVOKED';
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationRevokedError';
  }

  static isInstance(error: unknown): error is AuthorizationRevokedError {
    return error instanceof Error && (error as { code?: unknown }).code === 'USER_AUTHORIZATION_REVOKED';
  }
}

export interface FeishuOAuthClient {
  /** The consent page URL the person opens in the browser. */
  authorizationUrl(request: { state: string; codeChallenge: string; scopes: readonly string[] }): string;
  /** Exchanges the callback's code (the whole callback URL, checked for state and errors). */
  exchangeCode(request: {
    callbackUrl: URL;
    expectedState: string;
    codeVerifier: string;
    signal?: AbortSignal;
  }): Promise<UserTokenSet>;
  /** A new token set for a refresh token (which Feishu then invalidates: store the new one). */
  refresh(refreshToken: string, signal?: AbortSignal): Promise<UserTokenSet>;
}

export interface FeishuOAuthClientOptions {
  appId: string;
  appSecret: string;
  /** FEISHU_DOMAIN: 'feishu', 'lark', or a base URL (a proxy, or the fakes in tests). */
  domain: string;
  /** `${PUBLIC_BASE_URL}/oauth/callback`, also registered as a redirect URL in the app's console. */
  redirectUri: string;
  now?: () => number;
}

/** Where the consent page and the token endpoint live for a FEISHU_DOMAIN. */
export function oauthEndpoints(domain: string): { accounts: string; issuer: string } {
  if (domain === 'feishu') return { accounts: 'https://accounts.feishu.cn', issuer: 'https://accounts.feishu.cn' };
  if (domain === 'lark')
    return { accounts: 'https://accounts.larksuite.com', issuer: 'https://accounts.larksuite.com' };
  const base = domain.replace(/\/+$/, '');
  return { accounts: base, issuer: base };
}

/**
 * Feishu's OAuth 2.0 authorization code flow with PKCE (S256), through `oauth4webapi` (a small,
 * dependency-free, standards-checked OAuth client): it builds the token requests, checks the
 * callback's state and error, and validates the token responses, so no OAuth rule is ours to get
 * wrong. Token endpoint: `<accounts>/oauth/v3/token` (v3 enforces PKCE as the RFC says);
 * consent page: `<accounts>/open-apis/authen/v1/authorize`.
 *
 * @example
 * const client = createFeishuOAuthClient({ appId, appSecret, domain: 'feishu', redirectUri });
 * const url = client.authorizationUrl({ state, codeChallenge, scopes: ['offline_access', 'search:docs:read'] });
 */
export function createFeishuOAuthClient({
  appId,
  appSecret,
  domain,
  redirectUri,
  now = Date.now,
}: FeishuOAuthClientOptions): FeishuOAuthClient {
  const { accounts, issuer } = oauthEndpoints(domain);
  const server: oauth.AuthorizationServer = {
    issuer,
    authorization_endpoint: `${accounts}/open-apis/authen/v1/authorize`,
    token_endpoint: `${accounts}/oauth/v3/token`,
  };
  const client: oauth.Client = { client_id: appId };
  const authentication = oauth.ClientSecretPost(appSecret);
  // Plain HTTP only where the operator named an http:// base URL (a local proxy or the fakes).
  const insecure = accounts.startsWith('http://') ? { [oauth.allowInsecureRequests]: true } : {};

  function toTokenSet(response: oauth.TokenEndpointResponse): UserTokenSet {
    const refreshExpiresIn = (response as { refresh_token_expires_in?: unknown }).refresh_token_expires_in;
    return {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      expiresAt: now() + (response.expires_in ?? 7_200) * 1000,
      refreshExpiresAt: typeof refreshExpiresIn === 'number' ? now() + refreshExpiresIn * 1000 : undefined,
      scopes: (response.scope ?? '').split(/\s+/).filter((scope) => scope.length > 0),
    };
  }

  function revokedOrRethrow(error: unknown): never {
    if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
      throw new AuthorizationRevokedError(`Feishu refused the grant: ${error.error_description ?? error.error}`);
    }
    throw error;
  }

  return {
    authorizationUrl({ state, codeChallenge, scopes }) {
      const url = new URL(server.authorization_endpoint as string);
      url.searchParams.set('client_id', appId);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', [...new Set(scopes)].join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return url.toString();
    },
    async exchangeCode({ callbackUrl, expectedState, codeVerifier, signal }) {
      const parameters = oauth.validateAuthResponse(server, client, callbackUrl, expectedState);
      try {
        const response = await oauth.authorizationCodeGrantRequest(
          server,
          client,
          authentication,
          parameters,
          redirectUri,
          codeVerifier,
          { ...insecure, ...(signal === undefined ? {} : { signal }) },
        );
        return toTokenSet(await oauth.processAuthorizationCodeResponse(server, client, response));
      } catch (error) {
        return revokedOrRethrow(error);
      }
    },
    async refresh(refreshToken, signal) {
      try {
        const response = await oauth.refreshTokenGrantRequest(server, client, authentication, refreshToken, {
          ...insecure,
          ...(signal === undefined ? {} : { signal }),
        });
        return toTokenSet(await oauth.processRefreshTokenResponse(server, client, response));
      } catch (error) {
        return revokedOrRethrow(error);
      }
    },
  };
}
