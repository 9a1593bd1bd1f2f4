package dev.ferry.pm.migrate;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * A client-streaming call that sends only while gRPC's window is open (a 1 GiB image must not
 * pile up in memory) and waits for the single answer.
 */
final class FlowControlledUpload<Q, A> {
    /** The call failed; the cause is the gRPC error. */
    static final class Failed extends RuntimeException {
        Failed(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }

    private final CompletableFuture<A> answer = new CompletableFuture<>();
    private final Object ready = new Object();
    private ClientCallStreamObserver<Q> requests;

    FlowControlledUpload(Consumer<StreamObserver<A>> start) {
        start.accept(new ClientResponseObserver<Q, A>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<Q> stream) {
                requests = stream;
                stream.setOnReadyHandler(() -> {
                    synchronized (ready) {
                        ready.notifyAll();
                    }
                });
            }

            @Override
            public void onNext(A value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
                synchronized (ready) {
                    ready.notifyAll();
                }
            }

            @Override
            public void onCompleted() {
                answer.completeExceptionally(new IllegalStateException("no answer"));
            }
        });
    }

    void send(Q message) {
        synchronized (ready) {
            while (!requests.isReady() && !answer.isDone()) {
                try {
                    ready.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Failed(e);
                }
            }
        }
        if (answer.isCompletedExceptionally()) {
            throw new Failed(cause());
        }
        requests.onNext(message);
    }

    A finish() {
        requests.onCompleted();
        try {
            return answer.get();
        } catch (ExecutionException e) {
            throw new Failed(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed(e);
        }
    }

    void cancel(Throwable why) {
        if (!answer.isDone()) {
            requests.cancel("migration abandoned", why);
        }
    }

    private Throwable cause() {
        try {
            answer.join();
            return new IllegalStateException("no failure");
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause();
        }
    }
}
