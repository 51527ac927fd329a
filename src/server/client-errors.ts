import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AuthError } from '../index.js';

/** Marks a request whose `Expect` header Node could not meet, for {@link refuseProtocolViolations}. */
const EXPECTATION_FAILED = Symbol('nest-refresh-auth:expectation-failed');

/**
 * Answers requests that Node's HTTP server refuses before any routing in the contract's error
 * shape instead of an empty body. What the parser cannot read (bad framing, headers over the
 * limit, a request that took too long) is answered here, 400/431/408, and the connection closed.
 * What Node would answer itself with an empty 417 (an `Expect` other than 100-continue) or 400 (an
 * HTTP/1.1 request without `Host`) goes on into the app instead, where {@link refuseProtocolViolations}
 * hands it to the app's filter. Nothing of the request is echoed.
 *
 * @example answerParserErrors(app.getHttpServer());
 */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    // Like Node's own answer: none once a response has begun on the socket, it would corrupt it.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight) {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'Request headers are too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'The request took too long to arrive']
          : [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({ statusCode: status, code: 'validation_failed', message });
    // An answer to HEAD has no body, whatever else was wrong with the request (RFC 9110 §9.3.2).
    const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  });
  // With a listener Node no longer answers the request itself: it is marked and served as any other.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    (request as IncomingMessage & { [EXPECTATION_FAILED]?: true })[EXPECTATION_FAILED] = true;
    server.emit('request', request, response);
  });
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
}

/**
 * Express middleware, before the body parsers: fails the requests that Node would have refused with an
 * empty body, so the app's filter answers them in the contract's shape (RFC 6749's on `/oauth/*`):
 * an `Expect` other than 100-continue (417) and an HTTP/1.1 request without `Host` (400, as
 * RFC 9112 §3.2 requires).
 *
 * @example app.use(refuseProtocolViolations);
 */
export function refuseProtocolViolations(
  request: IncomingMessage,
  _response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  if ((request as IncomingMessage & { [EXPECTATION_FAILED]?: true })[EXPECTATION_FAILED]) {
    next(new AuthError('validation_failed', 'Only "Expect: 100-continue" is supported', undefined, undefined, 417));
    return;
  }
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    next(new AuthError('validation_failed', 'An HTTP/1.1 request needs a Host header'));
    return;
  }
  next();
}
