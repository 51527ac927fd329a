import { registerAndLogin } from './support/auth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

describe('smoke', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('smoke');
    instance = await context.start();
  });
  afterAll(() => context.close());

  it('registers, logs in and reads /auth/me', async () => {
    const { account, tokens } = await registerAndLogin(instance);
    const me = await instance.http().get('/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    expect(me.body.email).toBe(account.email);
  });
});
