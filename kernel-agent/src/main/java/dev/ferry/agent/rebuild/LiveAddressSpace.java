package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.PROT_READ;
import static dev.ferry.agent.ptrace.Syscalls.PROT_WRITE;

import dev.ferry.agent.checkpoint.MappingChanges;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A stub's address space filled round by round while the original process still runs
 * (pre-copy). Each round brings the mappings of its moment: where an old and a new mapping are
 * of the same kind ({@link MappingChanges#sameKind}) the pages already written stay; the rest
 * is unmapped or mapped afresh, and the source re-sends all of it by the same rule. Private
 * mappings stay writable until {@link #finalProtections}, so page writes need no mprotect.
 */
final class LiveAddressSpace {
    private final AddressSpaceBuilder space;
    private final RemoteMemory memory;
    /** The regular mappings in place, by start address. */
    private TreeMap<Long, Mapping> built = new TreeMap<>();
    /** Mapped during the current round: reads as zeros, so zero runs there need no work. */
    private RangeSet fresh = RangeSet.EMPTY;

    LiveAddressSpace(AddressSpaceBuilder space, RemoteMemory memory) {
        this.space = space;
        this.memory = memory;
    }

    /** Round 1: empties the stub (keeping and moving the vdso) and maps {@code mappings}. */
    void first(List<VmArea> stub, List<Mapping> mappings) throws TraceException, IOException, RebuildException {
        space.prepare(stub, mappings);
        reconcile(mappings);
    }

    /** A later round (or the final state): makes the layout match {@code mappings}. */
    void reconcile(List<Mapping> mappings) throws TraceException, IOException, RebuildException {
        List<Mapping> before = List.copyOf(built.values());
        space.keepScratchClearOf(mappings);
        RangeSet kept = MappingChanges.kept(before, mappings);
        for (PageRange r : MappingChanges.ranges(before).minus(kept).ranges()) {
            space.unmap(r.start(), r.end());
        }
        TreeMap<Long, Mapping> now = new TreeMap<>();
        RangeSet mapped = RangeSet.EMPTY;
        for (Mapping m : mappings) {
            if (!MappingChanges.isRegular(m)) {
                continue;
            }
            RangeSet missing = RangeSet.of(List.of(PageRange.between(m.getStart(), m.getEnd()))).minus(kept);
            for (PageRange r : missing.ranges()) {
                space.map(m, r.start(), r.end(), mappedProt(m));
            }
            mapped = mapped.union(missing);
            now.put(m.getStart(), m);
        }
        built = now;
        fresh = mapped;
    }

    /** Writes one batch of the current round: data, or a run of zero pages. */
    void write(PageBatch b) throws TraceException, IOException, RebuildException {
        long length = b.getData().isEmpty() ? b.getZeroPages() * AddressSpaceBuilder.PAGE : b.getData().size();
        Map.Entry<Long, Mapping> e = built.floorEntry(b.getAddress());
        if (e == null || b.getAddress() + length > e.getValue().getEnd()) {
            throw new RebuildException("pages at 0x" + Long.toHexString(b.getAddress()) + " (+" + length
                    + ") lie outside the mappings of their round");
        }
        Mapping m = e.getValue();
        if (b.getData().isEmpty()) {
            RangeSet zeros = RangeSet.of(List.of(new PageRange(b.getAddress(), length))).minus(fresh);
            for (PageRange r : zeros.ranges()) {
                if (MappingChanges.anonymous(m)) {
                    space.discard(r.start(), r.length());
                } else {
                    space.writeZeros(r.start(), r.length());
                }
            }
            return;
        }
        long at = b.getAddress();
        for (ByteBuffer part : b.getData().asReadOnlyByteBufferList()) {
            int n = part.remaining();
            if (part.isDirect()) {
                memory.writeFrom(Native.getDirectBufferPointer(part).share(part.position()), at, n);
            } else {
                space.writeThroughBuffer(part, at);
            }
            at += n;
        }
    }

    /** Last step: every mapping gets its own protection (private ones were writable until now). */
    void finalProtections() throws TraceException {
        for (Mapping m : built.values()) {
            if (mappedProt(m) != m.getProt()) {
                space.protect(m.getStart(), m.getEnd(), m.getProt());
            }
        }
    }

    private static int mappedProt(Mapping m) {
        return m.getShared() ? m.getProt() : m.getProt() | PROT_READ | PROT_WRITE;
    }
}
