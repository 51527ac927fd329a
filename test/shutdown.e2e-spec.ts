import { register, uniqueEmail } from './support/auth-helpers.js';
import { startListening } from './support/listening-instance.js';
import { TestContext } from './support/test-context.js';

// API.md: on SIGTERM the service stops accepting connections, finishes the requests in flight and
// closes the database and Redis. main.ts turns the signal into app.close(); this is that close.
describe('graceful shutdown', () => {
  let context: TestContext;

  beforeAll(async () => {
    context = await TestContext.create('shutdown');
  });
  afterAll(() => context.close());

  it('finishes a request in flight, then refuses new connections', async () => {
    const { instance, port } = await startListening(context);
    const account = await register(instance, uniqueEmail('shutdown'));
    const base = `http://127.0.0.1:${port}`;

    // A login spends an argon2 verification: it is still running when the close begins.
    const received = new Promise((resolve) => instance.app.getHttpServer().once('request', resolve));
    const inFlight = fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: account.email, password: account.password }),
    });
    await received;
    await instance.close();

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { token_type: string }).token_type).toBe('Bearer');
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
