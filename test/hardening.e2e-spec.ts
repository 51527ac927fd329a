import { MaintenanceService } from '../src/index.js';
import { login, refresh, register, registerAndLogin, sleep, uniqueEmail, waitUntil } from './support/auth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const bearer = (token: string) => `Bearer ${token}`;

describe('hardening', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('hardening');
    instance = await context.start({
      LOGIN_MAX_FAILURES: '3',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      CORS_ORIGINS: 'https://app.example',
    });
  });
  afterAll(() => context.close());

  it('a password change leaves no session of the old password, even for logins racing it', async () => {
    // The user changes the password on one replica while an attacker holding the old password
    // logs in over and over through another (three at a time: within the account limit of 3).
    const racing = await context.start({ LOGIN_MAX_FAILURES_PER_IP: '100000' });
    const { account, tokens } = await registerAndLogin(racing);
    let changing = true;
    const raced: string[] = [];
    const racer = async () => {
      while (changing) {
        const response = await instance
          .http()
          .post('/auth/login')
          .send({ email: account.email, password: account.password });
        if (response.status === 200) raced.push(response.body.refresh_token as string);
      }
    };
    const racers = [racer(), racer(), racer()];
    let change;
    try {
      await sleep(150);
      change = await racing
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(tokens.access_token))
        .send({ currentPassword: account.password, newPassword: 'a brand new passphrase' });
    } finally {
      changing = false;
      await Promise.all(racers);
    }
    expect(change.status).toBe(204);

    expect(raced.length).toBeGreaterThan(0);
    for (const token of raced) expect((await refresh(racing, token)).status).toBe(401);
    const sessions = await instance
      .http()
      .get('/auth/sessions')
      .set('Authorization', bearer(tokens.access_token))
      .expect(200);
    expect(sessions.body.map((session: { id: string }) => session.id)).toEqual([tokens.session_id]);
  });

  it('counts wrong current passwords like failed logins (429 past the limit)', async () => {
    const { tokens } = await registerAndLogin(instance);
    const change = () =>
      instance
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(tokens.access_token))
        .send({ currentPassword: 'not my password', newPassword: 'whatever passphrase' });
    for (let i = 0; i < 3; i += 1) expect((await change()).status).toBe(400);
    const refused = await change();
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers a rotated token that comes back after its session ended with refresh_token_expired, not theft', async () => {
    const short = await context.start({ SESSION_MAX_AGE: '2', REFRESH_TOKEN_TTL: '2', REFRESH_REUSE_GRACE: '10' });
    const { account, tokens } = await registerAndLogin(short);
    await refresh(short, tokens.refresh_token).expect(200);
    await sleep(2300);
    const late = await refresh(short, tokens.refresh_token);
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('refresh_token_expired');
    const fresh = await login(short, account);
    const events = await short.http().get('/auth/events').set('Authorization', bearer(fresh.access_token)).expect(200);
    expect(events.body.items.map((event: { type: string }) => event.type)).not.toContain('refresh_token_reused');
  });

  it('takes form bodies only on /oauth, and rejects fields on endpoints without a body', async () => {
    const account = await register(instance);
    const form = await instance
      .http()
      .post('/auth/login')
      .type('form')
      .send({ email: account.email, password: account.password });
    expect(form.status).toBe(400);
    expect(form.body.code).toBe('validation_failed');
    const tokens = await login(instance, account);
    const extra = await instance
      .http()
      .post('/auth/logout-all')
      .set('Authorization', bearer(tokens.access_token))
      .send({ foo: 1 });
    expect(extra.status).toBe(400);
    expect(extra.body.details).toEqual([{ field: 'foo', messages: [expect.any(String)] }]);
    await instance.http().post('/auth/logout-all').set('Authorization', bearer(tokens.access_token)).expect(204);
  });

  it('answers OAuth errors in RFC 6749 form whatever the path case', async () => {
    const response = await instance.http().post('/OAuth/token').type('form').send({ grant_type: 'password' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
  });

  it('refuses NUL characters with 400 validation_failed naming the field', async () => {
    const response = await instance
      .http()
      .post('/auth/register')
      .send({ email: uniqueEmail(), password: 'correct horse battery', name: 'A\u0000B' });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.details[0].field).toBe('name');
  });

  it('lets a cross-origin app read Retry-After and WWW-Authenticate', async () => {
    const response = await instance.http().get('/auth/me').set('Origin', 'https://app.example');
    expect(response.status).toBe(401);
    expect(response.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    expect(response.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/);
  });

  it('purges ended sessions; their access tokens stay rejected', async () => {
    const { tokens } = await registerAndLogin(instance);
    await instance.http().post('/auth/logout').set('Authorization', bearer(tokens.access_token)).expect(204);
    // Two days on, the ended session is past its retention.
    const purged = await instance.app.get(MaintenanceService).run(new Date(Date.now() + 2 * 86_400_000));
    expect(purged?.sessions).toBeGreaterThanOrEqual(1);
    expect(
      await waitUntil(async () => {
        const me = await instance.http().get('/auth/me').set('Authorization', bearer(tokens.access_token));
        return me.status === 401 && me.body.code === 'token_revoked';
      }, 1000),
    ).toBeGreaterThanOrEqual(0);
    expect((await refresh(instance, tokens.refresh_token)).status).toBe(401);
  });
});

describe('admin bootstrap', () => {
  let context: TestContext;

  beforeAll(async () => {
    context = await TestContext.create('admin-bootstrap');
  });
  afterAll(() => context.close());

  it('never promotes an account someone else registered with the admin email', async () => {
    const first = await context.start();
    const email = uniqueEmail('boss');
    await register(first, email, 'the squatters passphrase');
    await expect(context.start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the operators passphrase' })).rejects.toThrow(
      /ADMIN_EMAIL/,
    );
    const squatter = await login(first, { email, password: 'the squatters passphrase' });
    const me = await first.http().get('/auth/me').set('Authorization', bearer(squatter.access_token)).expect(200);
    expect(me.body.roles).not.toContain('admin');
  });

  it('promotes an existing account when ADMIN_PASSWORD is its password', async () => {
    const first = await context.start();
    const email = uniqueEmail('owner');
    await register(first, email, 'the owners passphrase');
    const second = await context.start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the owners passphrase' });
    const owner = await login(second, { email, password: 'the owners passphrase' });
    await second.http().get('/admin/notes').set('Authorization', bearer(owner.access_token)).expect(200);
  });
});
