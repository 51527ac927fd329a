import { randomBytes } from 'node:crypto';
import type { TestInstance } from './test-context.js';

/** A token response as the API returns it. */
export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  session_id: string;
}

/** A registered account with its password. */
export interface Account {
  id: string;
  email: string;
  password: string;
}

/** A fresh, unique email. */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Registers a new account (201 expected). */
export async function register(
  instance: TestInstance,
  email = uniqueEmail(),
  password = 'correct horse battery',
): Promise<Account> {
  const response = await instance.http().post('/auth/register').send({ email, password }).expect(201);
  return { id: response.body.id, email: response.body.email, password };
}

/** Logs an account in (200 expected) and returns the token response. */
export async function login(instance: TestInstance, account: Pick<Account, 'email' | 'password'>): Promise<Tokens> {
  const response = await instance
    .http()
    .post('/auth/login')
    .send({ email: account.email, password: account.password })
    .expect(200);
  return response.body as Tokens;
}

/** Registers a new account and logs it in. */
export async function registerAndLogin(
  instance: TestInstance,
  email?: string,
): Promise<{ account: Account; tokens: Tokens }> {
  const account = await register(instance, email);
  return { account, tokens: await login(instance, account) };
}

/** Sends a refresh in body mode and returns the raw response. */
export function refresh(instance: TestInstance, refreshToken: string) {
  return instance.http().post('/auth/refresh').send({ refresh_token: refreshToken });
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the elapsed milliseconds, or -1. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(stepMs);
  }
  return -1;
}
