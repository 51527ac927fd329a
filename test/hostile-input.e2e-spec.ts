import { connect } from 'node:net';
import { registerAndLogin, type Account, type Tokens } from './support/auth-helpers.js';
import { startListening } from './support/listening-instance.js';
import { RawConnection } from './support/raw-http.js';
import { TestContext, type TestInstance } from './support/test-context.js';

/** Writes raw bytes on a fresh connection and returns every byte the server sends until it closes. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(15_000, () => socket.destroy(new Error('the server neither answered nor closed')));
  });
}

/** The status, headers and body of one raw HTTP answer. */
function parse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

const contractError = (status: number) => ({
  statusCode: status,
  code: 'validation_failed',
  message: expect.any(String),
});

// Issue 7, item 3: input no careful client sends is refused in the contract's shape, never a 5xx
// or an empty answer. Each case here is one the fuzz suite (test/fuzz.e2e-spec.ts) found or covers.
describe('hostile input', () => {
  let context: TestContext;
  let instance: TestInstance;
  let port: number;
  let account: Account;
  let tokens: Tokens;

  beforeAll(async () => {
    context = await TestContext.create('hostile-input');
    ({ instance, port } = await startListening(context, { LOGIN_MAX_FAILURES: '1000' }));
    ({ account, tokens } = await registerAndLogin(instance));
  });
  afterAll(() => context.close());

  describe('bodies', () => {
    const deep = `${'['.repeat(1500)}${']'.repeat(1500)}`;

    it.each(['/auth/register', '/auth/login', '/auth/refresh', '/auth/logout'])(
      'answers JSON nested 1,500 deep on %s with 400 validation_failed',
      async (path) => {
        const response = await instance
          .http()
          .post(path)
          .set('Content-Type', 'application/json')
          .send(`{"email":${deep},"password":"x","refresh_token":${deep}}`);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ ...contractError(400), details: expect.any(Array) });
      },
    );

    it.each([
      ['a lone surrogate in the email', { email: 'ann\ud800@example.com', password: 'correct horse battery' }],
      ['a lone surrogate in the password', { email: 'ann@example.com', password: 'correct\udfffhorse battery' }],
      ['a NUL in the email', { email: 'ann\u0000@example.com', password: 'correct horse battery' }],
      [
        'a lone surrogate in a field name',
        { email: 'ann@example.com', password: 'correct horse battery', '\ud800': 1 },
      ],
    ])('answers %s with 400 validation_failed', async (_case, body) => {
      for (const path of ['/auth/register', '/auth/login']) {
        const response = await instance.http().post(path).send(body);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ ...contractError(400), details: expect.any(Array) });
      }
    });

    it('gives the answers to unreadable bodies the security headers of every other answer', async () => {
      // helmet used to run after the body parsers, so their refusals went out without its headers.
      const malformed = await instance.http().post('/auth/login').set('Content-Type', 'application/json').send('{');
      const charset = await instance
        .http()
        .post('/auth/login')
        .set('Content-Type', 'application/json; charset=foo')
        .send('{}');
      for (const response of [malformed, charset]) {
        expect(response.body.code).toBe('validation_failed');
        expect(response.headers['x-content-type-options']).toBe('nosniff');
      }
      expect(charset.status).toBe(415);
    });
  });

  describe('bearer header (RFC 6750: exactly one space, one token)', () => {
    it.each([
      ['a token followed by more', (token: string) => `Bearer ${token} extra`],
      ['a tab for the space', (token: string) => `Bearer\t${token}`],
      ['two spaces', (token: string) => `Bearer  ${token}`],
      ['two tokens', (token: string) => `Bearer ${token}, Bearer ${token}`],
    ])('refuses %s with 401 token_invalid, on the guard and on logout alike', async (_case, header) => {
      const guarded = await instance.http().get('/auth/me').set('Authorization', header(tokens.access_token));
      const logout = await instance.http().post('/auth/logout').set('Authorization', header(tokens.access_token));
      for (const response of [guarded, logout]) {
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('token_invalid');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
      }
      await instance.http().get('/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    });
  });

  describe('paths and queries', () => {
    it('answers a path parameter that is not valid percent-encoding with 400 naming the path', async () => {
      const bearer = `Bearer ${tokens.access_token}`;
      for (const response of [
        await instance.http().get('/notes/%zz').set('Authorization', bearer),
        await instance.http().delete('/auth/sessions/%E0%A4%A').set('Authorization', bearer),
        await instance.http().post('/admin/users/%C0%AF%/revoke-sessions').set('Authorization', bearer),
      ]) {
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ ...contractError(400), message: 'Request path is malformed' });
      }
    });

    it('answers a cursor past any event id with the first page, not a database error', async () => {
      // PostgreSQL's integer column could not compare with 999999999999999: it was a 500 there.
      const first = await instance
        .http()
        .get('/auth/events')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(200);
      const beyond = await instance
        .http()
        .get('/auth/events?cursor=999999999999999')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(200);
      expect(beyond.body).toEqual(first.body);
    });
  });

  describe("what Node's HTTP server refuses, answered in the contract's shape", () => {
    it('answers a malformed request line with 400 and a JSON body, then closes', async () => {
      const answer = parse(await exchange(port, 'GET /auth/me HTTP/1.1 trailing\r\nHost: x\r\n\r\n'));
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body)).toEqual(contractError(400));
    });

    it.each([
      ['a Content-Length that is no number', 'Content-Length: abc\r\n'],
      ['two different Content-Lengths', 'Content-Length: 2\r\nContent-Length: 3\r\n'],
      ['Content-Length with chunked encoding', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n'],
    ])('answers %s with 400 and a JSON body', async (_case, framing) => {
      const raw = `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n{}`;
      const answer = parse(await exchange(port, raw));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual(contractError(400));
    });

    it('answers headers over 16 KB with 431 and a JSON body', async () => {
      const raw = `GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(17_000)}\r\n\r\n`;
      const answer = parse(await exchange(port, raw));
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toEqual(contractError(431));
    });

    it('answers a HEAD it cannot parse without a body, as HEAD requires', async () => {
      // A client reading a HEAD answer takes no body: the JSON sent anyway broke its connection.
      // A DEL in the query is refused by the parser, before any routing.
      const answer = await exchange(port, 'HEAD /auth/me?x=\x7f HTTP/1.1\r\nHost: x\r\n\r\n');
      const { status, headers, body } = parse(answer);
      expect(status).toBe(400);
      expect(headers['content-type']).toMatch(/^application\/json/);
      expect(body).toBe('');
    });

    it('answers an HTTP/1.1 request without Host with 400 and a JSON body (Node sent an empty one)', async () => {
      const connection = await RawConnection.open(port);
      try {
        connection.write('GET /auth/me HTTP/1.1\r\n\r\n');
        const response = await connection.response();
        expect(response?.status).toBe(400);
        expect(JSON.parse(response!.body)).toEqual(contractError(400));
      } finally {
        connection.destroy();
      }
    });

    it('answers an Expect other than 100-continue with 417 and a JSON body, RFC 6749 shaped on /oauth', async () => {
      const connection = await RawConnection.open(port);
      try {
        connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n');
        const plain = await connection.response();
        expect(plain?.status).toBe(417);
        expect(JSON.parse(plain!.body)).toEqual(contractError(417));

        const form = 'grant_type=refresh_token&refresh_token=x';
        connection.write(
          `POST /oauth/token HTTP/1.1\r\nHost: x\r\nExpect: something\r\n` +
            `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`,
        );
        const oauth = await connection.response();
        expect(oauth?.status).toBe(400);
        expect(JSON.parse(oauth!.body)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });

        // The connection still serves: the refused requests were read to their end.
        connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
        expect((await connection.response())?.status).toBe(200);
      } finally {
        connection.destroy();
      }
    });

    it('still serves 100-continue as Node does', async () => {
      const body = JSON.stringify({ email: account.email, password: account.password });
      const connection = await RawConnection.open(port);
      try {
        connection.write(
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
        );
        expect((await connection.response())?.status).toBe(100);
        connection.write(body);
        expect((await connection.response())?.status).toBe(200);
      } finally {
        connection.destroy();
      }
    });
  });
});
