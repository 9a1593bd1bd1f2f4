package dev.ferry.agent.dirty;

/** A page-aligned, non-empty range of a process' address space. */
public record PageRange(long start, long length) {
    public static final long PAGE = 4096;

    public PageRange {
        if (length <= 0 || start % PAGE != 0 || length % PAGE != 0) {
            throw new IllegalArgumentException("not a page range: 0x" + Long.toHexString(start) + " + " + length);
        }
    }

    public static PageRange between(long start, long end) {
        return new PageRange(start, end - start);
    }

    public long end() {
        return start + length;
    }

    public long pages() {
        return length / PAGE;
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end()) < 0;
    }

    @Override
    public String toString() {
        return Long.toHexString(start) + "-" + Long.toHexString(end());
    }
}
