package dev.ferry.agent.checkpoint;

import dev.ferry.agent.dirty.DirtyPages;
import dev.ferry.agent.dirty.AbsentPages;
import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.proto.v1.Mapping;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The page rounds of pre-copy: reads a process' memory while it keeps running (no freeze, no
 * ptrace stop; process_vm_readv only). Round 1 ({@link #first()}) reads every page a capture
 * would carry; each later round ({@link #dirty}) re-reads only the pages a dirty tracker
 * reported. A page written while its round reads it may come out torn, which is harmless as
 * long as the tracker was started before the round: the write makes it dirty for the next one.
 * The last round is read with the process frozen, so the union of all rounds (later ones
 * overriding earlier) is its memory at the freeze.
 */
public final class PageRounds implements AutoCloseable {
    private final int hostPid;
    private final int lhPid;
    private final RemoteMemory memory;
    private final PageReader reader;
    /** The layout the previous round announced (null before round 1). */
    private List<Mapping> lastLayout;
    /**
     * Where the grows-down areas end (VmFlags "gd", from smaps read once in round 1; such an
     * area keeps its end as it grows). The rounds read /proc/PID/maps, which does not show the
     * flag (smaps walks every page table), but the capture at the freeze does, and both sides
     * decide what the destination keeps by comparing layouts ({@link MappingChanges#sameKind}
     * compares grows_down): without this the destination would map the stack afresh at the
     * freeze and lose every stack page the last round did not send.
     */
    private final java.util.Set<Long> growsDownEnds = new java.util.HashSet<>();
    /** Runs a round could not read (the program changed them meanwhile): the next round reads them. */
    private final List<PageRange> missed = new ArrayList<>();

    public PageRounds(int hostPid, int lhPid) {
        this.hostPid = hostPid;
        this.lhPid = lhPid;
        this.memory = new RemoteMemory(hostPid);
        this.reader = new PageReader(hostPid, lhPid, memory);
    }

    /**
     * Round 1: every present or swapped private page that is not an unmodified file page, the
     * same set a capture carries. Refused like a capture when a mapping cannot be carried.
     */
    public PageRound first() throws IOException, CaptureRefusedException {
        long t0 = System.nanoTime();
        MemoryPageSink sink = new MemoryPageSink();
        firstTo(sink);
        return new PageRound(sink.batches(), System.nanoTime() - t0);
    }

    /** Round 1 into {@code sink}; returns the mappings it read (the layout the destination must have for them). */
    public List<Mapping> firstTo(PageSink sink) throws IOException, CaptureRefusedException {
        for (VmArea a : VmArea.parseSmaps(Files.readString(Path.of("/proc", Integer.toString(hostPid), "smaps")))) {
            if (a.vmFlags().contains("gd")) {
                growsDownEnds.add(a.end());
            }
        }
        List<String> blockers = new ArrayList<>();
        List<Mapping.Builder> mappings = currentMappings(blockers);
        if (!blockers.isEmpty()) {
            throw new CaptureRefusedException(blockers);
        }
        List<Mapping> layout = built(mappings);
        sink.layout(layout);
        lastLayout = layout;
        reader.tolerateChanges(true);
        reader.read(mappings, sink);
        missed.addAll(reader.takeMissed());
        return layout;
    }

    /**
     * Call with the capture's mappings before the last round: the areas that grow down there
     * (the capture reads their VmFlags) grow down in the last round's layout too, so that an
     * area the program mapped with MAP_GROWSDOWN after round 1 counts as remapped on both sides
     * and is sent whole.
     */
    public void growsDownAsCaptured(List<Mapping> captured) {
        for (Mapping m : captured) {
            if (m.getGrowsDown()) {
                growsDownEnds.add(m.getEnd());
            }
        }
    }

    /** A later round: the pages of {@code dirty.ranges()}. */
    public PageRound dirty(DirtyPages dirty) throws IOException {
        return dirty(dirty.ranges());
    }

    /**
     * A later round: the pages of {@code ranges} (sorted, disjoint) that lie in a mapping a
     * capture carries pages of. In anonymous mappings every page is read (one that is not
     * there reads as zeros and comes out as a zero run, so an earlier round's copy of a
     * discarded page is overridden); in private file mappings only the copied-on-write ones.
     */
    public PageRound dirty(List<PageRange> ranges) throws IOException {
        long t0 = System.nanoTime();
        MemoryPageSink sink = new MemoryPageSink();
        dirtyTo(ranges, sink);
        return new PageRound(sink.batches(), System.nanoTime() - t0);
    }

    /** {@link #dirty(List)} of a running process into {@code sink}; returns the mappings of that moment. */
    public List<Mapping> dirtyTo(List<PageRange> ranges, PageSink sink) throws IOException {
        return dirtyTo(ranges, sink, false);
    }

    /**
     * A round into {@code sink}: {@code ranges}, plus the runs earlier rounds could not read
     * because the running program changed them under the reader, plus every page of what the
     * destination maps afresh since the previous round's layout ({@link MappingChanges}). With {@code frozen} (the last
     * round) every run must be read; before, one that cannot be is left for the next round.
     */
    public List<Mapping> dirtyTo(List<PageRange> ranges, PageSink sink, boolean frozen) throws IOException {
        List<Mapping.Builder> mappings = currentMappings(new ArrayList<>());   // blocked ones are left out
        List<Mapping> layout = built(mappings);
        List<PageRange> all = new ArrayList<>(ranges);
        all.addAll(missed);
        missed.clear();
        if (lastLayout != null) {
            all.addAll(MappingChanges.remapped(lastLayout, layout).ranges());   // the destination maps these afresh
        }
        ranges = RangeSet.of(all).ranges();
        lastLayout = layout;
        sink.layout(layout);
        reader.tolerateChanges(!frozen);
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc", Integer.toString(hostPid), "pagemap"), StandardOpenOption.READ)) {
            int first = 0;
            for (Mapping.Builder m : mappings) {
                if (!carriesPages(m)) {
                    continue;
                }
                while (first < ranges.size() && ranges.get(first).end() <= m.getStart()) {
                    first++;
                }
                for (int i = first; i < ranges.size() && ranges.get(i).start() < m.getEnd(); i++) {
                    long from = Math.max(m.getStart(), ranges.get(i).start()), to = Math.min(m.getEnd(), ranges.get(i).end());
                    readClip(pagemap, m, from, to, sink);
                }
            }
        }
        missed.addAll(reader.takeMissed());
        return layout;
    }

    /**
     * For the last round, read while frozen: pages of {@code sent} (where the destination holds
     * data from earlier rounds) that the program has discarded since, e.g. with
     * MADV_DONTNEED, which no dirty tracker reports as a write. In anonymous mappings they go
     * out as zero runs, in private file mappings as the file's content, which they show again.
     * Returns the pages found.
     */
    public long discardedTo(RangeSet sent, PageSink sink) throws IOException {
        long found = 0;
        reader.tolerateChanges(false);
        List<Mapping.Builder> mappings = new ArrayList<>();
        List<PageRange> anonymous = new ArrayList<>();
        for (Mapping.Builder m : currentMappings(new ArrayList<>())) {
            if (!carriesPages(m) || m.getContentCarried()) {
                continue;   // a carried file's pages are all read whole, present or not
            }
            if (m.getPath().isEmpty()) {
                anonymous.addAll(sent.intersect(RangeSet.of(List.of(PageRange.between(m.getStart(), m.getEnd())))).ranges());
            } else {
                mappings.add(m);
            }
        }
        Optional<RangeSet> absent = AbsentPages.of(hostPid, anonymous);
        if (absent.isPresent()) {
            for (PageRange r : absent.get().ranges()) {
                sink.zero(lhPid, r.start(), r.pages());
                found += r.pages();
            }
        } else {
            mappings = currentMappings(new ArrayList<>());   // no kernel walk: read pagemap for all of them
        }
        ByteBuffer entries = ByteBuffer.allocate(PageReader.RUN / PageReader.PAGE * 8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc", Integer.toString(hostPid), "pagemap"), StandardOpenOption.READ)) {
            for (Mapping.Builder m : mappings) {
                if (!carriesPages(m) || m.getContentCarried()) {
                    continue;
                }
                RangeSet here = sent.intersect(RangeSet.of(List.of(PageRange.between(m.getStart(), m.getEnd()))));
                for (PageRange r : here.ranges()) {
                    found += discardedIn(pagemap, entries, m, r, sink);
                }
            }
        }
        return found;
    }

    /** Pages of {@code r} (in mapping {@code m}) a capture would not carry now, sent as zeros or the file's bytes. */
    private long discardedIn(FileChannel pagemap, ByteBuffer entries, Mapping.Builder m, PageRange r, PageSink sink) throws IOException {
        long found = 0;
        for (long chunk = r.start(); chunk < r.end(); chunk += PageReader.RUN) {
            int n = (int) (Math.min(PageReader.RUN, r.end() - chunk) / PageReader.PAGE);
            readEntries(pagemap, entries, chunk, n);
            int i = 0;
            while (i < n) {
                if (PageReader.carry(entries.getLong(i * 8))) {
                    i++;
                    continue;
                }
                int start = i;
                while (i < n && !PageReader.carry(entries.getLong(i * 8))) {
                    i++;
                }
                long at = chunk + (long) start * PageReader.PAGE;
                if (m.getPath().isEmpty()) {
                    sink.zero(lhPid, at, i - start);
                } else {
                    reader.readRun(at, (i - start) * PageReader.PAGE, (m.getProt() & 1) != 0, sink);
                }
                found += i - start;
            }
        }
        return found;
    }

    private static boolean carriesPages(Mapping.Builder m) {
        return !m.getShared() && m.getSpecial() != Mapping.Special.VDSO && m.getSpecial() != Mapping.Special.VVAR
                && m.getSpecial() != Mapping.Special.VVAR_VCLOCK && m.getSpecial() != Mapping.Special.VSYSCALL;
    }

    private static void readEntries(FileChannel pagemap, ByteBuffer entries, long address, int pages) throws IOException {
        entries.clear().limit(pages * 8);
        long pos = address / PageReader.PAGE * 8;
        while (entries.hasRemaining()) {
            if (pagemap.read(entries, pos + entries.position()) <= 0) {
                throw new IOException("short read of pagemap at " + Long.toHexString(address));
            }
        }
    }

    private static List<Mapping> built(List<Mapping.Builder> mappings) {
        List<Mapping> out = new ArrayList<>(mappings.size());
        for (Mapping.Builder m : mappings) {
            out.add(m.build());
        }
        return out;
    }

    private void readClip(FileChannel pagemap, Mapping.Builder m, long from, long to, PageSink sink) throws IOException {
        boolean readable = (m.getProt() & 1) != 0;
        if (m.getPath().isEmpty()) {
            for (long at = from; at < to; at += PageReader.RUN) {
                reader.readRun(at, (int) Math.min(PageReader.RUN, to - at), readable, sink);
            }
            return;
        }
        // a private file mapping: its unmodified pages come from the file, as in a capture
        ByteBuffer entries = ByteBuffer.allocate(PageReader.RUN / PageReader.PAGE * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long chunk = from; chunk < to; chunk += PageReader.RUN) {
            int n = (int) (Math.min(PageReader.RUN, to - chunk) / PageReader.PAGE);
            readEntries(pagemap, entries, chunk, n);
            int i = 0;
            while (i < n) {
                if (!PageReader.carry(entries.getLong(i * 8))) {
                    i++;
                    continue;
                }
                int start = i;
                while (i < n && PageReader.carry(entries.getLong(i * 8))) {
                    i++;
                }
                reader.readRun(chunk + (long) start * PageReader.PAGE, (i - start) * PageReader.PAGE, readable, sink);
            }
        }
    }

    private List<Mapping.Builder> currentMappings(List<String> blockers) throws IOException {
        String maps = Files.readString(Path.of("/proc", Integer.toString(hostPid), "maps"));   // smaps would walk page tables
        List<Mapping.Builder> out = Mappings.of(VmArea.parseSmaps(maps), "process " + lhPid, blockers);
        out.sort(Comparator.comparingLong(Mapping.Builder::getStart));
        for (Mapping.Builder m : out) {
            if (!m.getShared() && growsDownEnds.contains(m.getEnd())) {
                m.setGrowsDown(true);
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        memory.close();
    }
}
