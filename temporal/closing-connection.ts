/**
 * A client connection whose retries end when it is closed. The client's retry interceptor schedules a
 * retry with a timer; one that fires after the connection closed would create a call on the closed
 * channel, which throws ("Channel has been shut down") out of the timer: an uncaught exception that
 * made `npm start` exit 1 on SIGTERM when a call was retrying then (a busy server), and failed test
 * files after their tests passed. Here such a call ends CANCELLED (not retryable), as a failed call.
 */
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

type CallBelow = ConstructorParameters<typeof InterceptingCall>[0];

/** What a call made or retried after the close ends with. */
export const CLOSED_DETAILS = 'the connection was closed';

/** A call that never reaches the channel: it ends CANCELLED as soon as it starts. */
function cancelledCall(): CallBelow {
  return {
    start: (_metadata, listener) => {
      setImmediate(() => listener?.onReceiveStatus?.({ code: status.CANCELLED, details: CLOSED_DETAILS, metadata: new Metadata() }));
    },
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    sendMessageWithContext: () => undefined,
    sendMessage: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    getAuthContext: () => null,
  };
}

/** The interceptor that answers every call CANCELLED once `isClosed()`; below the retry interceptor. */
function endsWhenClosed(isClosed: () => boolean): Interceptor {
  return (options, nextCall) => new InterceptingCall(isClosed() ? cancelledCall() : nextCall(options));
}

/**
 * The interceptors of such a connection: the guard, the client's own retries (or the ones given), the
 * guard again. Above the retries it ends a call first made after the close (the retry interceptor
 * cannot end a first attempt that received no message: "savedMessageNext is not a function"); below
 * them, a retry scheduled before the close.
 */
export const closingInterceptors = (isClosed: () => boolean, retries: Interceptor[] = [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())]): Interceptor[] => [
  endsWhenClosed(isClosed),
  ...retries,
  endsWhenClosed(isClosed),
];

/** `Connection.lazy(options)` whose `close()` first stops any call or retry from reaching the channel. */
export function closingConnection(options: ConnectionOptions): Connection {
  let closed = false;
  const connection = Connection.lazy({ ...options, interceptors: closingInterceptors(() => closed, options.interceptors) });
  const close = connection.close.bind(connection);
  return Object.assign(connection, {
    close: async () => {
      closed = true;
      await close();
    },
  });
}
