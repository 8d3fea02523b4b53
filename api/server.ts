/**
 * The HTTP server the app runs in, with limits that fit a webhook receiver and a small JSON API:
 * a client gets a few seconds to send its headers and its body (a stalled socket is closed, not kept
 * for Node's minutes), and every error Node answers before Express sees the request (headers too
 * large, a timeout, a malformed request line) still gets the API's JSON error body.
 * `npm start` and the test harness both listen through `listen()`.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestListener } from 'node:http';
import type { ErrorBody } from './http/errors';

export const SERVER_LIMITS = {
  /** Time to receive the request line and headers. */
  headersTimeoutMs: 5_000,
  /** Time to receive the whole request (a 1 MB webhook body included). */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive socket between requests. */
  keepAliveTimeoutMs: 5_000,
  /** How often Node checks sockets against the two timeouts above (its default is 30 s). */
  checkIntervalMs: 1_000,
  /** Node's default header budget; a bigger header block is refused with 431. */
  maxHeaderBytes: 16 * 1024,
};

export function createHttpServer(app: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: SERVER_LIMITS.checkIntervalMs,
      maxHeaderSize: SERVER_LIMITS.maxHeaderBytes,
    },
    app,
  );
  server.keepAliveTimeout = SERVER_LIMITS.keepAliveTimeoutMs;
  server.on('clientError', answerClientError);
  return server;
}

/** Creates the server and listens; resolves once it accepts connections. */
export function listen(app: RequestListener, port: number, host: string): Promise<Server> {
  const server = createHttpServer(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Node's own answers (a bare status line) in the API's error body. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Nothing to answer on a closed socket, or after a response has begun.
  if (!socket.writable || err.code === 'ECONNRESET' || (socket as Socket).bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const [status, reason, body] = clientErrorAnswer(err.code);
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

function clientErrorAnswer(code: string | undefined): [number, string, ErrorBody] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', {
        error: { code: 'headers_too_large', message: `the request headers are larger than ${SERVER_LIMITS.maxHeaderBytes / 1024} kB` },
      }];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', { error: { code: 'timeout', message: 'the request was not received in time' } }];
    default:
      return [400, 'Bad Request', { error: { code: 'invalid_request', message: 'malformed HTTP request' } }];
  }
}
