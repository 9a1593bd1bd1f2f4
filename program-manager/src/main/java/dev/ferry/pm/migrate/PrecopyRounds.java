package dev.ferry.pm.migrate;

import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.FileIdentities;
import dev.ferry.agent.checkpoint.PageRounds;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.SendingPageSink;
import dev.ferry.agent.dirty.DirtyPages;
import dev.ferry.agent.dirty.DirtyTracker;
import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.proto.v1.LhTransfer;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.MigrateProgress;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageBatches;
import dev.ferry.proto.v1.RoundStart;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The source's page rounds (V's pre-copy): round 1 sends every page a capture would carry
 * while the program runs; each later round sends what the tracker saw written during the
 * previous one, plus whatever the destination maps afresh because the layout changed
 * ({@link MappingChanges}); {@link PrecopyPolicy} says when to stop. Then, with the LH frozen,
 * {@link #finalRound} sends the rest.
 */
final class PrecopyRounds {
    /** Sends one message of the migration stream; may block on flow control. */
    interface Wire {
        void send(LhTransfer message) throws IOException;

        /** Waits until the destination has applied every page of {@code round}. */
        void awaitApplied(int round) throws IOException;
    }

    private static final long PROGRESS_EVERY_NS = 500_000_000L;

    private final PageRounds rounds;
    private final DirtyTracker tracker;
    private final Wire wire;
    private final PrecopyPolicy policy;
    private final Consumer<MigrateProgress> progress;
    private final MigrateProgress.Builder status;
    private final List<Long> roundPages = new ArrayList<>();
    /** Where the destination holds data (not zeros) from some round. */
    private RangeSet sent = RangeSet.EMPTY;
    /** Dirtied during the last round sent, not sent yet: the final round carries them. */
    private List<PageRange> pending = List.of();
    private long bytes;
    private long lastProgress;

    PrecopyRounds(PageRounds rounds, DirtyTracker tracker, Wire wire, PrecopyPolicy policy, Consumer<MigrateProgress> progress,
                  MigrateProgress.Builder status) {
        this.rounds = rounds;
        this.tracker = tracker;
        this.wire = wire;
        this.policy = policy;
        this.progress = progress;
        this.status = status.setPhase("precopy");
    }

    /** Rounds while the program runs, until the policy says freeze. The tracker must be started. */
    void run() throws IOException, CaptureRefusedException {
        long t0 = System.nanoTime();   // the tracker started just before: round 2 sends what was written since
        SendingPageSink first = sink(1);
        FileIdentities.warm(rounds.firstTo(first));   // hashed now, so the capture at the freeze only checks them
        first.flush();
        endRound(1, first);
        double bytesPerMs = first.dataBytes() / Math.max(0.001, (System.nanoTime() - t0) / 1e6);
        long roundStart = t0;
        long previousDirty = Long.MAX_VALUE;
        int notShrinking = 0;
        for (int round = 2; ; round++) {
            DirtyPages dirty = tracker.collect();
            long now = System.nanoTime();
            List<PageRange> toSend = dirty.ranges();
            long dirtyBytes = RangeSet.of(toSend).bytes();
            status.setDirtyMbS(dirtyBytes / 1e6 / Math.max(1e-6, (now - roundStart) / 1e9));
            roundStart = now;
            notShrinking = dirtyBytes > policy.minShrink() * previousDirty ? notShrinking + 1 : 0;
            if (dirtyBytes <= policy.finalBytes(bytesPerMs) || round > policy.maxRounds() || notShrinking >= 2) {
                pending = toSend;
                return;
            }
            previousDirty = dirtyBytes;
            long r0 = System.nanoTime();
            SendingPageSink sink = sink(round);
            rounds.dirtyTo(toSend, sink);
            sink.flush();
            endRound(round, sink);
            double ms = (System.nanoTime() - r0) / 1e6;
            if (sink.dataBytes() > (1 << 20) && ms > 0) {
                bytesPerMs = sink.dataBytes() / ms;
            }
        }
    }

    /**
     * With the LH frozen (and its state sent): the pages dirtied during the last round sent,
     * those written since ({@code last}, collected right after the freeze), what the final
     * layout remaps, and data pages the program discarded.
     */
    void finalRound(DirtyPages last, PhaseTimer timer) throws IOException {
        status.setPhase("freeze");
        List<PageRange> ranges = new ArrayList<>(pending);
        ranges.addAll(last.ranges());
        SendingPageSink sink = new SendingPageSink(this::sendPages);
        rounds.dirtyTo(RangeSet.of(ranges).ranges(), sink, true);
        timer.mark("last dirty pages");
        rounds.discardedTo(sent.minus(sink.dataRanges()).minus(sink.zeroRanges()), sink);
        sink.flush();
        roundPages.add(sink.pages());
        timer.mark("discarded pages");
    }

    List<Long> roundPages() {
        return roundPages;
    }

    /** Rounds sent while the program ran. */
    int precopyRounds() {
        return roundPages.size();
    }

    long bytes() {
        return bytes;
    }

    /** Counts what goes over the wire. */
    void send(LhTransfer message) throws IOException {
        bytes += message.getSerializedSize();
        wire.send(message);
    }

    private SendingPageSink sink(int round) {
        status.setRound(round).setRoundBytes(0);
        return new SendingPageSink(new SendingPageSink.Sender() {
            @Override
            public void layout(List<Mapping> mappings) throws IOException {
                PrecopyRounds.this.send(LhTransfer.newBuilder().setRoundStart(RoundStart.newBuilder().setRound(round).addAllMappings(mappings)).build());
            }

            @Override
            public void send(List<PageBatch> batches) throws IOException {
                sendPages(batches);
                status.setRoundBytes(status.getRoundBytes() + batches.stream().mapToLong(b -> b.getData().size()).sum());
            }
        });
    }

    private void sendPages(List<PageBatch> batches) throws IOException {
        send(batches.size() == 1 ? LhTransfer.newBuilder().setPages(batches.get(0)).build()
                : LhTransfer.newBuilder().setPageBatches(PageBatches.newBuilder().addAllBatches(batches)).build());
        tracker.sent(batches);
        long now = System.nanoTime();
        if (now - lastProgress > PROGRESS_EVERY_NS) {
            lastProgress = now;
            progress.accept(status.setBytesSent(bytes).build());
        }
    }

    private void endRound(int round, SendingPageSink sink) throws IOException {
        send(LhTransfer.newBuilder().setRoundEnd(round).build());
        wire.awaitApplied(round);
        finishRound(sink);
    }

    private void finishRound(SendingPageSink sink) {
        sent = sent.union(sink.dataRanges()).minus(sink.zeroRanges());
        roundPages.add(sink.pages());
        progress.accept(status.setBytesSent(bytes).build());
    }
}
