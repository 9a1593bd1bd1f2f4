package dev.ferry.agent.ptrace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * x86_64 general registers as PTRACE_GETREGSET NT_PRSTATUS returns them (struct
 * user_regs_struct: 27 unsigned longs, fs_base and gs_base included). A mutable copy.
 */
public final class Registers {
    public static final int SIZE = 27 * 8;

    static final int R13 = 2, R12 = 3, R10 = 7, R9 = 8, R8 = 9, RAX = 10, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15,
            RIP = 16, RSP = 19, FS_BASE = 21;

    private final ByteBuffer bytes;

    public Registers(byte[] raw) {
        if (raw.length != SIZE) {
            throw new IllegalArgumentException("NT_PRSTATUS must be " + SIZE + " bytes, got " + raw.length);
        }
        bytes = ByteBuffer.wrap(raw.clone()).order(ByteOrder.LITTLE_ENDIAN);
    }

    public byte[] toBytes() {
        return bytes.array().clone();
    }

    long get(int index) {
        return bytes.getLong(index * 8);
    }

    void set(int index, long value) {
        bytes.putLong(index * 8, value);
    }

    public long rip() {
        return get(RIP);
    }

    public long rsp() {
        return get(RSP);
    }

    public long rax() {
        return get(RAX);
    }

    public long origRax() {
        return get(ORIG_RAX);
    }

    public long fsBase() {
        return get(FS_BASE);
    }

    /**
     * The registers the program must resume with when it is not resumed by the kernel that
     * stopped it: a syscall cut short by the stop is made to re-execute (-ERESTARTSYS,
     * -ERESTARTNOINTR, -ERESTARTNOHAND) or to return -EINTR (-ERESTART_RESTARTBLOCK: the
     * restart block lives in the old kernel, as in CRIU), and orig_rax = -1 so that no restart
     * logic runs again. Returns true when the syscall was turned into EINTR.
     */
    public boolean normaliseInterruptedSyscall() {
        boolean eintr = false;
        if (origRax() >= 0) {
            long rax = rax();
            if (rax == -512 || rax == -513 || rax == -514) {
                set(RAX, origRax());
                set(RIP, rip() - 2);
            } else if (rax == -516) {
                set(RAX, -4);
                eintr = true;
            }
        }
        set(ORIG_RAX, -1);
        return eintr;
    }
}
