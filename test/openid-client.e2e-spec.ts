import * as oauth from 'openid-client';
import { uniqueEmail, waitUntil, type Tokens } from './support/auth-helpers.js';
import { startListening } from './support/listening-instance.js';
import { TestContext } from './support/test-context.js';

// The service as an application team sees it through a standard OAuth 2.0 client library
// (openid-client v6): discovery, refresh, introspection and revocation over real HTTP.
const PUBLIC_CLIENT_ID = 'nra-web';
const RESOURCE_SERVER = { id: 'rs', secret: '0123456789abcdef' };
const PASSWORD = 'correct horse battery';

describe('openid-client v6 against the OAuth endpoints', () => {
  let context: TestContext;
  let baseUrl: string;
  /** A public client: the refresh token is its only credential (RFC 6749 §6, RFC 7009 §2.1). */
  let publicClient: oauth.Configuration;
  /** A resource server allowed to introspect (OAUTH_INTROSPECTION_CLIENTS), with HTTP Basic. */
  let resourceServer: oauth.Configuration;

  beforeAll(async () => {
    context = await TestContext.create('openid_client');
    ({ baseUrl } = await startListening(context, {
      OAUTH_INTROSPECTION_CLIENTS: `${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`,
    }));
    // RFC 8414 metadata lives at /.well-known/oauth-authorization-server; openid-client's default
    // ('oidc') would fetch /.well-known/openid-configuration instead.
    const discoveryOptions = { algorithm: 'oauth2' as const, execute: [oauth.allowInsecureRequests] };
    publicClient = await oauth.discovery(new URL(baseUrl), PUBLIC_CLIENT_ID, undefined, oauth.None(), discoveryOptions);
    resourceServer = await oauth.discovery(
      new URL(baseUrl),
      RESOURCE_SERVER.id,
      undefined,
      oauth.ClientSecretBasic(RESOURCE_SERVER.secret),
      discoveryOptions,
    );
  });
  afterAll(() => context.close());

  async function postJson(path: string, body: unknown): Promise<Response> {
    return fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function signUpAndLogIn(): Promise<{ email: string; tokens: Tokens }> {
    const email = uniqueEmail('oidc');
    const registered = await postJson('/auth/register', { email, password: PASSWORD });
    expect(registered.status).toBe(201);
    const loggedIn = await postJson('/auth/login', { email, password: PASSWORD });
    expect(loggedIn.status).toBe(200);
    return { email, tokens: (await loggedIn.json()) as Tokens };
  }

  async function introspect(token: string) {
    return oauth.tokenIntrospection(resourceServer, token);
  }

  it('discovers the RFC 8414 metadata with the server as issuer', () => {
    const metadata = publicClient.serverMetadata();
    expect(metadata.issuer).toBe(baseUrl);
    expect(metadata.token_endpoint).toBe(`${baseUrl}/oauth/token`);
    expect(metadata.revocation_endpoint).toBe(`${baseUrl}/oauth/revoke`);
    expect(metadata.introspection_endpoint).toBe(`${baseUrl}/oauth/introspect`);
    expect(metadata.jwks_uri).toBe(`${baseUrl}/.well-known/jwks.json`);
    expect(metadata.grant_types_supported).toContain('refresh_token');
  });

  it('refreshes, introspects, revokes, and then the refresh token is dead', async () => {
    const { email, tokens: login } = await signUpAndLogIn();

    const refreshed = await oauth.refreshTokenGrant(publicClient, login.refresh_token);
    expect(refreshed.token_type.toLowerCase()).toBe('bearer');
    expect(typeof refreshed.access_token).toBe('string');
    expect(typeof refreshed.refresh_token).toBe('string');
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);
    expect(refreshed.expiresIn()).toBeGreaterThan(0);
    const refreshToken = refreshed.refresh_token!;

    const me = await oauth.fetchProtectedResource(
      publicClient,
      refreshed.access_token,
      new URL(`${baseUrl}/auth/me`),
      'GET',
    );
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(email);

    const live = await introspect(refreshToken);
    expect(live.active).toBe(true);
    expect(live.token_type).toBe('refresh_token');
    expect(live.sid).toBe(login.session_id);
    expect(typeof live.sub).toBe('string');
    const liveAccess = await introspect(refreshed.access_token);
    expect(liveAccess).toMatchObject({
      active: true,
      token_type: 'access_token',
      sid: login.session_id,
      sub: live.sub,
    });

    await oauth.tokenRevocation(publicClient, refreshToken, { token_type_hint: 'refresh_token' });

    const rejection = await oauth.refreshTokenGrant(publicClient, refreshToken).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(rejection).toBeInstanceOf(oauth.ResponseBodyError);
    expect(rejection).toMatchObject({ error: 'invalid_grant', status: 400 });

    expect(await introspect(refreshToken)).toEqual({ active: false });
    // Revocation ends the whole session; API.md allows access tokens up to 1 s to follow.
    const accessDeadAfter = await waitUntil(
      async () => (await introspect(refreshed.access_token)).active === false,
      1_000,
    );
    expect(accessDeadAfter).toBeGreaterThanOrEqual(0);
    expect(await introspect(refreshed.access_token)).toEqual({ active: false });
  });

  it('refuses introspection to a client with the wrong secret', async () => {
    const { tokens } = await signUpAndLogIn();
    const impostor = await oauth.discovery(
      new URL(baseUrl),
      RESOURCE_SERVER.id,
      undefined,
      oauth.ClientSecretBasic('not-the-secret'),
      { algorithm: 'oauth2', execute: [oauth.allowInsecureRequests] },
    );
    // RFC 6749 §5.2: a failed HTTP Basic authentication is a 401 with a Basic challenge, which
    // openid-client reports as the challenge itself rather than the `invalid_client` body.
    const rejection = await oauth.tokenIntrospection(impostor, tokens.access_token).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(rejection).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenge = rejection as oauth.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause.map((item) => item.scheme)).toEqual(['basic']);
    expect(await challenge.response.json()).toMatchObject({ error: 'invalid_client' });
  });
});
