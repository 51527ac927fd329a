import { login, register } from './support/auth-helpers.js';
import { LogAudit } from './support/log-audit.js';
import { TestContext } from './support/test-context.js';

// The audit every test context runs on its logs when it closes: it must catch what it is for.
describe('the log audit of every e2e file', () => {
  it('catches a token, its secret part or hash, a password and an argon2 hash in a log line, and passes clean lines', async () => {
    const context = await TestContext.create('log-audit');
    const instance = await context.start();
    const account = await register(instance);
    const tokens = await login(instance, account);
    await context.close();
    expect(context.audit.lines.length).toBeGreaterThan(0);

    const secret = tokens.refresh_token.split('.')[2]!;
    const planted = [
      `warn: refresh failed for ${tokens.refresh_token}`,
      `log: {"msg":"x","token":"${tokens.access_token}"}`,
      `error: something with ${secret} inside`,
      `log: password was ${account.password}!`,
      'log: $argon2id$v=19$m=19456,t=2,p=1$abc$def',
    ];
    for (const line of planted) {
      const audit = new LogAudit();
      audit.note(tokens.refresh_token);
      audit.note(tokens.access_token);
      audit.note(account.password, 'password');
      audit.logger().warn(line);
      expect(() => audit.verify()).toThrow(/a log line holds/);
    }
    const clean = new LogAudit();
    clean.note(tokens.refresh_token);
    clean.logger().log(`session ${tokens.session_id} refreshed`);
    expect(clean.verify()).toBe(1);
  });
});
