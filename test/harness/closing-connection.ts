/**
 * A client connection for a test stack whose retries end when the stack closes it. The client's
 * retry interceptor schedules a retry with a timer; one that fires after the stack closed the
 * connection would create a call on the closed channel, which throws ("Channel has been shut down")
 * out of the timer and fails the test file after all its tests passed. Below the retry interceptor,
 * this one answers such a retry CANCELLED (not retryable) instead, so the call ends as a failed call.
 */
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

type CallBelow = ConstructorParameters<typeof InterceptingCall>[0];

/** A call that never reaches the channel: it ends CANCELLED as soon as it starts. */
function cancelledCall(): CallBelow {
  return {
    start: (_metadata, listener) => {
      setImmediate(() => listener?.onReceiveStatus?.({ code: status.CANCELLED, details: 'the test stack closed its connection', metadata: new Metadata() }));
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
export function endsWhenClosed(isClosed: () => boolean): Interceptor {
  return (options, nextCall) => new InterceptingCall(isClosed() ? cancelledCall() : nextCall(options));
}

/**
 * The interceptors of such a connection: the guard, the client's own retries, the guard again. Above
 * the retries it ends a call first made after the close (the retry interceptor cannot end a first
 * attempt that received no message: "savedMessageNext is not a function"); below them, a retry
 * scheduled before the close.
 */
export const closingInterceptors = (isClosed: () => boolean): Interceptor[] => [
  endsWhenClosed(isClosed),
  makeGrpcRetryInterceptor(defaultGrpcRetryOptions()),
  endsWhenClosed(isClosed),
];

/** Connects like `Connection.connect({ address })`; `close()` first stops any retry from reaching the channel. */
export async function connectClosing(address: string): Promise<{ connection: Connection; close(): Promise<void> }> {
  let closed = false;
  const connection = await Connection.connect({ address, interceptors: closingInterceptors(() => closed) });
  return {
    connection,
    close: async () => {
      closed = true;
      await connection.close();
    },
  };
}
