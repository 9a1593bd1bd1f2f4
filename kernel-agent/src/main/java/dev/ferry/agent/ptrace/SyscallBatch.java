package dev.ferry.agent.ptrace;

import static dev.ferry.agent.ptrace.Syscalls.MAP_ANONYMOUS;
import static dev.ferry.agent.ptrace.Syscalls.MAP_PRIVATE;
import static dev.ferry.agent.ptrace.Syscalls.MMAP;
import static dev.ferry.agent.ptrace.Syscalls.MUNMAP;
import static dev.ferry.agent.ptrace.Syscalls.PROT_EXEC;
import static dev.ferry.agent.ptrace.Syscalls.PROT_READ;
import static dev.ferry.agent.ptrace.Syscalls.PROT_WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Many system calls in a stopped tracee for the price of a few: a tiny loop of machine code is
 * placed in a scratch mapping of the tracee together with a table of calls, the tracee runs it
 * once and stops on its int3, and the results are read back. An injected call costs a
 * single-step round trip through the scheduler (0.1-0.2 ms on the test machines); reading or
 * writing the 62 signal actions one by one cost more than the rest of a migration's freeze.
 *
 * <pre>
 *   loop: test r13,r13; jz done
 *         rax,rdi,rsi,rdx,r10,r8,r9 = [r12], [r12+8] .. [r12+48]; syscall; [r12+56] = rax
 *         r12 += 64; r13 -= 1; jmp loop
 *   done: int3
 * </pre>
 * Use: {@link #open} maps the scratch area (one injected mmap), {@link #data} gives addresses
 * for in-memory arguments, {@link #add} queues calls, {@link #run} executes them all, and
 * {@link #close} unmaps the area. The tracee's registers are put back after the run.
 */
public final class SyscallBatch implements AutoCloseable {
    private static final byte[] CODE = {
        0x4D, (byte) 0x85, (byte) 0xED,                 // test r13, r13
        0x74, 0x32,                                     // jz done (+50)
        0x49, (byte) 0x8B, 0x04, 0x24,                  // mov rax, [r12]
        0x49, (byte) 0x8B, 0x7C, 0x24, 0x08,            // mov rdi, [r12+8]
        0x49, (byte) 0x8B, 0x74, 0x24, 0x10,            // mov rsi, [r12+16]
        0x49, (byte) 0x8B, 0x54, 0x24, 0x18,            // mov rdx, [r12+24]
        0x4D, (byte) 0x8B, 0x54, 0x24, 0x20,            // mov r10, [r12+32]
        0x4D, (byte) 0x8B, 0x44, 0x24, 0x28,            // mov r8, [r12+40]
        0x4D, (byte) 0x8B, 0x4C, 0x24, 0x30,            // mov r9, [r12+48]
        0x0F, 0x05,                                     // syscall
        0x49, (byte) 0x89, 0x44, 0x24, 0x38,            // mov [r12+56], rax
        0x49, (byte) 0x83, (byte) 0xC4, 0x40,           // add r12, 64
        0x49, (byte) 0xFF, (byte) 0xCD,                 // dec r13
        (byte) 0xEB, (byte) 0xC9,                       // jmp loop (-55)
        (byte) 0xCC,                                    // done: int3
    };
    private static final int CODE_BYTES = 64, ENTRY = 64;

    private final Tracee tracee;
    private final SyscallInjector inject;
    private final RemoteMemory memory;
    private final int maxCalls;
    private final long base;
    private final long size;
    private final List<long[]> calls = new ArrayList<>();

    private SyscallBatch(Tracee tracee, SyscallInjector inject, RemoteMemory memory, int maxCalls, long base, long size) {
        this.tracee = tracee;
        this.inject = inject;
        this.memory = memory;
        this.maxCalls = maxCalls;
        this.base = base;
        this.size = size;
    }

    /** Maps a scratch area for up to {@code maxCalls} calls and {@code dataBytes} of arguments. */
    public static SyscallBatch open(Tracee tracee, SyscallInjector inject, RemoteMemory memory, int maxCalls, int dataBytes)
            throws TraceException {
        long size = (CODE_BYTES + (long) maxCalls * ENTRY + dataBytes + 4095) & ~4095L;
        long base = inject.check("mmap syscall batch", MMAP, 0, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return new SyscallBatch(tracee, inject, memory, maxCalls, base, size);
    }

    /** The tracee address of byte {@code offset} of the data area (for pointer arguments). */
    public long data(int offset) {
        return base + CODE_BYTES + (long) maxCalls * ENTRY + offset;
    }

    /** Queues one call; returns its index in {@link #run}'s results. */
    public int add(int number, long... args) {
        if (calls.size() == maxCalls) {
            throw new IllegalStateException("batch full (" + maxCalls + " calls)");
        }
        if (args.length > 6) {
            throw new IllegalArgumentException("at most 6 syscall arguments");
        }
        long[] entry = new long[8];
        entry[0] = number;
        System.arraycopy(args, 0, entry, 1, args.length);
        calls.add(entry);
        return calls.size() - 1;
    }

    /** Writes {@code bytes} into the data area at {@code offset} (before {@link #run}). */
    public void write(int offset, byte[] bytes) throws IOException {
        memory.write(data(offset), bytes);
    }

    /** Reads {@code length} bytes of the data area at {@code offset} (after {@link #run}). */
    public byte[] read(int offset, int length) throws IOException {
        return memory.read(data(offset), length);
    }

    /** Runs the queued calls in order; returns their raw results (value or -errno) and clears the queue. */
    public long[] run() throws TraceException, IOException {
        ByteBuffer image = ByteBuffer.allocate(CODE_BYTES + calls.size() * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        image.put(CODE);
        image.position(CODE_BYTES);
        for (long[] c : calls) {
            for (long v : c) {
                image.putLong(v);
            }
        }
        memory.write(base, image.array());
        Registers saved = tracee.registers();
        long mask = tracee.sigmask();
        Registers regs = new Registers(saved.toBytes());
        regs.set(Registers.RIP, base);
        regs.set(Registers.ORIG_RAX, -1);
        regs.set(Registers.R12, base + CODE_BYTES);
        regs.set(Registers.R13, calls.size());
        tracee.setRegisters(regs);
        tracee.setSigmask(-1L);   // a signal pending for the program must wait: it would stop the run instead of the trap
        try {
            tracee.runToTrap();
        } finally {
            tracee.setRegisters(saved);
            tracee.setSigmask(mask);
        }
        ByteBuffer table = ByteBuffer.wrap(memory.read(base + CODE_BYTES, calls.size() * ENTRY)).order(ByteOrder.LITTLE_ENDIAN);
        long[] results = new long[calls.size()];
        for (int i = 0; i < results.length; i++) {
            results[i] = table.getLong(i * ENTRY + 56);
        }
        calls.clear();
        return results;
    }

    /** Unmaps the scratch area (one injected munmap). */
    @Override
    public void close() throws TraceException {
        inject.check("munmap syscall batch", MUNMAP, base, size);
    }
}
