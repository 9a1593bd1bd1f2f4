package dev.ferry.agent.ptrace;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One dedicated platform thread that makes every ptrace call for its tracees. The kernel binds
 * a tracee to the thread that seized it: calls from other threads fail with ESRCH, and when
 * the thread ends the kernel detaches (or, with PTRACE_O_EXITKILL, kills) its tracees. So no
 * pooled or virtual threads: work is handed to this thread and the caller waits for it.
 */
public final class TracerThread implements AutoCloseable {
    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    public TracerThread(String name) {
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (!closed || !work.isEmpty()) {
            try {
                work.take().run();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Runs {@code task} on the tracer thread and returns its result or rethrows its exception. */
    public <T> T call(Callable<T> task) throws Exception {
        if (Thread.currentThread() == thread) {
            return task.call();
        }
        if (closed) {
            throw new IllegalStateException("tracer thread " + thread.getName() + " is closed");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        work.add(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            throw (Error) cause;
        }
    }

    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Ends the thread after the queued work; tracees still attached are detached by the kernel. */
    @Override
    public void close() {
        closed = true;
        work.add(() -> { });
    }
}
