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
        this(start, a -> true, a -> { });
    }

    /**
     * For a call that answers with a stream: replies {@code isAnswer} rejects are interim
     * (handed to {@code interim} as they come), the first it accepts is the answer.
     */
    FlowControlledUpload(Consumer<StreamObserver<A>> start, java.util.function.Predicate<A> isAnswer, Consumer<A> interim) {
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
                if (isAnswer.test(value)) {
                    answer.complete(value);
                } else {
                    interim.accept(value);
                }
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
                interim.accept(null);   // wakes anyone waiting for an interim reply
                synchronized (ready) {
                    ready.notifyAll();
                }
            }

            @Override
            public void onCompleted() {
                answer.completeExceptionally(new IllegalStateException("no answer"));
                interim.accept(null);
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

    /** Whether the call has ended (answered or failed). */
    boolean ended() {
        return answer.isDone();
    }

    /** Why the call failed (after {@link #ended}). */
    Failed failure() {
        return new Failed(cause());
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
