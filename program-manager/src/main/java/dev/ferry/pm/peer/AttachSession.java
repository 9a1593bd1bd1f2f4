package dev.ferry.pm.peer;

import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.lh.OutputLog;
import dev.ferry.proto.v1.AttachDown;
import dev.ferry.proto.v1.AttachUp;
import dev.ferry.proto.v1.Moved;
import dev.ferry.proto.v1.OutputChunk;
import dev.ferry.proto.v1.OutputStream;
import dev.ferry.proto.v1.StdinChunk;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.function.IntConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The hosting side of one Attach stream: sends the LH's output from the offsets the client
 * asked for, then its exit; feeds stdin chunks to the program and acknowledges them.
 *
 * <p>Flow control both ways: output is sent only while the stream is ready (gRPC's window),
 * and the next stdin message is requested only after the previous one was written into the
 * program's pipe, so a program that does not read stops its client's sending.
 */
final class AttachSession {
    private static final Logger LOG = Logger.getLogger(AttachSession.class.getName());
    private static final int CHUNK = 256 * 1024;

    private final ServerCallStreamObserver<AttachDown> out;
    private HostedLh lh;
    private IntConsumer signaller;
    private long stdoutPos;
    private long stderrPos;
    private volatile boolean cancelled;
    private final Object readyLock = new Object();

    /** Must run while gRPC sets the call up: handlers cannot be installed later. */
    AttachSession(ServerCallStreamObserver<AttachDown> out) {
        this.out = out;
        out.setOnReadyHandler(() -> {
            synchronized (readyLock) {
                readyLock.notifyAll();
            }
        });
        out.setOnCancelHandler(() -> {
            cancelled = true;
            synchronized (readyLock) {
                readyLock.notifyAll();
            }
            HostedLh attached = lh;
            if (attached != null) {
                attached.stdout().poke();
                attached.stderr().poke();
            }
        });
    }

    boolean opened() {
        return lh != null;
    }

    /** Binds the stream to an LH (from its open message) and starts sending its output. */
    void open(HostedLh lh, long stdoutFrom, long stderrFrom, IntConsumer signaller) {
        this.stdoutPos = stdoutFrom;
        this.stderrPos = stderrFrom;
        this.signaller = signaller;
        this.lh = lh;
        Thread t = new Thread(this::sendOutput, "attach-" + lh.id());
        t.setDaemon(true);
        t.start();
    }

    /** Handles one message from the client; the caller requests the next one when told. */
    void onUp(AttachUp up, Runnable requestNext) {
        switch (up.getKindCase()) {
            case STDIN -> {
                StdinChunk c = up.getStdin();
                try {
                    lh.stdin().submit(c.getOffset(), c.getData().toByteArray(), c.getEof(), consumed -> {
                        send(AttachDown.newBuilder().setStdinAcked(consumed).build());
                        requestNext.run();
                    });
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            case SIGNAL -> {
                signaller.accept(up.getSignal());
                requestNext.run();
            }
            case ACK -> {
                lh.stdout().ack(up.getAck().getStdout());
                lh.stderr().ack(up.getAck().getStderr());
                requestNext.run();
            }
            default -> requestNext.run();
        }
    }

    private void sendOutput() {
        try {
            while (!cancelled) {
                boolean any = sendFrom(lh.stdout(), OutputStream.STDOUT);
                any |= sendFrom(lh.stderr(), OutputStream.STDERR);
                if (lh.stdout().finishedAt(stdoutPos) && lh.stderr().finishedAt(stderrPos) && lh.exit().isDone()) {
                    HostedLh.Moved moved = lh.movedTo();
                    // An LH that moved away ended here but runs on: the client follows it.
                    send(moved == null ? AttachDown.newBuilder().setExit(lh.exit().join()).build()
                            : AttachDown.newBuilder().setMoved(Moved.newBuilder().setLhId(lh.id())
                                    .setHost(moved.host()).setAddress(moved.address())).build());
                    synchronized (out) {
                        out.onCompleted();
                    }
                    return;
                }
                if (!any) {
                    awaitOutput();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!cancelled) {
                LOG.log(Level.WARNING, "attach to " + lh.id() + " failed", e);
                synchronized (out) {
                    out.onError(io.grpc.Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
                }
            }
        }
    }

    /** Waits until either log has bytes past our positions, or the LH ends. */
    private void awaitOutput() throws InterruptedException {
        Object signal = lh.outputSignal();
        synchronized (signal) {
            // Logs at their end but the exit not known yet: wait too (the exit pokes the signal).
            boolean news = lh.stdout().end() > stdoutPos || lh.stderr().end() > stderrPos
                    || lh.exit().isDone() || cancelled;
            if (!news) {
                signal.wait(100);
            }
        }
    }

    private boolean sendFrom(OutputLog log, OutputStream which) throws InterruptedException {
        long pos = which == OutputStream.STDOUT ? stdoutPos : stderrPos;
        byte[] data = log.read(pos, CHUNK, 0);
        if (data.length == 0) {
            return false;
        }
        emit(which, pos, data);
        if (which == OutputStream.STDOUT) {
            stdoutPos += data.length;
        } else {
            stderrPos += data.length;
        }
        return true;
    }

    private void emit(OutputStream which, long offset, byte[] data) throws InterruptedException {
        awaitReady();
        send(AttachDown.newBuilder().setOutput(OutputChunk.newBuilder()
                .setStream(which).setOffset(offset).setData(UnsafeByteOperations.unsafeWrap(data))).build());
    }

    private void awaitReady() throws InterruptedException {
        synchronized (readyLock) {
            while (!out.isReady() && !cancelled) {
                readyLock.wait(100);
            }
        }
    }

    private void send(AttachDown msg) {
        if (cancelled) {
            return;
        }
        synchronized (out) {
            try {
                out.onNext(msg);
            } catch (RuntimeException e) {
                cancelled = true; // the call ended under us
            }
        }
    }
}
