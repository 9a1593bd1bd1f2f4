package dev.ferry.agent.ptrace;

/**
 * Makes a stopped tracee execute one system call of our choosing: rip points at a
 * {@code syscall} instruction ({@code 0f 05}) inside the tracee's vdso, the arguments go in
 * rdi/rsi/rdx/r10/r8/r9, orig_rax = -1 so no restart logic interferes, one single step, and
 * the tracee's registers are put back. Nothing is written into the tracee's memory.
 */
public final class SyscallInjector {
    private static final int[] ARG_REGS = {Registers.RDI, Registers.RSI, Registers.RDX, Registers.R10, Registers.R8, Registers.R9};

    private final Tracee tracee;
    private long syscallAddress;

    public SyscallInjector(Tracee tracee, long syscallAddress) {
        this.tracee = tracee;
        this.syscallAddress = syscallAddress;
    }

    /** An injector for another thread of the same process (same address space, same instruction). */
    public SyscallInjector forThread(Tracee thread) {
        return new SyscallInjector(thread, syscallAddress);
    }

    Tracee tracee() {
        return tracee;
    }

    long address() {
        return syscallAddress;
    }

    /** After the vdso moved by {@code delta} bytes. */
    public void relocate(long delta) {
        syscallAddress += delta;
    }

    /** The raw result: a value, or -errno. */
    public long call(int number, long... args) throws TraceException {
        if (args.length > ARG_REGS.length) {
            throw new IllegalArgumentException("at most 6 syscall arguments");
        }
        Registers saved = tracee.registers();
        Registers regs = new Registers(saved.toBytes());
        regs.set(Registers.RAX, number);
        regs.set(Registers.ORIG_RAX, -1);
        regs.set(Registers.RIP, syscallAddress);
        for (int i = 0; i < args.length; i++) {
            regs.set(ARG_REGS[i], args[i]);
        }
        tracee.setRegisters(regs);
        long result;
        try {
            tracee.singleStep();
            result = tracee.registers().rax();
        } finally {
            tracee.setRegisters(saved);
        }
        return result;
    }

    /** Like {@link #call} but a -errno result throws, naming {@code what}. */
    public long check(String what, int number, long... args) throws TraceException {
        long r = call(number, args);
        if (r < 0 && r >= -4095) {
            throw new TraceException("injected " + what + " in process " + tracee.pid() + " failed", (int) -r);
        }
        return r;
    }

    /** The offset of the first {@code 0f 05} in {@code code}, or -1. */
    public static int findSyscallInstruction(byte[] code) {
        for (int i = 0; i + 1 < code.length; i++) {
            if (code[i] == 0x0f && code[i + 1] == 0x05) {
                return i;
            }
        }
        return -1;
    }
}
