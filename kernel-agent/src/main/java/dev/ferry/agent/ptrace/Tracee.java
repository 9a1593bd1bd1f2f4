package dev.ferry.agent.ptrace;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ferry.agent.linux.jna.KernelCalls;

/**
 * A process seized by this JVM's {@link TracerThread}. Every method must be called on that
 * thread (the kernel refuses ptrace requests from any other with ESRCH).
 */
public final class Tracee {
    private static final KernelCalls K = KernelCalls.INSTANCE;
    private static final int XSTATE_MAX = 16384;

    private final int pid;
    private final Memory iov = new Memory(16);
    private final Memory buffer = new Memory(XSTATE_MAX);
    private boolean attached = true;

    private Tracee(int pid) {
        this.pid = pid;
    }

    /**
     * PTRACE_SEIZE then PTRACE_INTERRUPT. The stop is not awaited: with the cgroup v1 freezer
     * it only arrives after the thaw, so the caller calls {@link #awaitStop()} when it can.
     * {@code exitKill}: the kernel kills the tracee if the tracer thread ends first (used for
     * half-built processes, never for a program that must survive a failed capture).
     */
    public static Tracee seize(int pid, boolean exitKill) throws TraceException {
        try {
            K.ptrace(Ptrace.SEIZE, pid, 0, exitKill ? Ptrace.O_EXITKILL : 0);
        } catch (LastErrorException e) {
            throw new TraceException("PTRACE_SEIZE of " + pid, e);
        }
        Tracee t = new Tracee(pid);
        try {
            K.ptrace(Ptrace.INTERRUPT, pid, 0, 0);
        } catch (LastErrorException e) {
            t.detach();
            throw new TraceException("PTRACE_INTERRUPT of " + pid, e);
        }
        return t;
    }

    /**
     * A thread the kernel attached to this tracer on its own (PTRACE_O_TRACECLONE): it starts
     * in a PTRACE_EVENT_STOP that the caller awaits with {@link #awaitStop()}.
     */
    static Tracee adopt(int tid) {
        return new Tracee(tid);
    }

    public int pid() {
        return pid;
    }

    /** PTRACE_SETOPTIONS: replaces every option (so pass PTRACE_O_EXITKILL again when it was set). */
    void setOptions(int options) throws TraceException {
        call("PTRACE_SETOPTIONS", Ptrace.SETOPTIONS, 0, options);
    }

    /** PTRACE_GETEVENTMSG: for a clone event, the new thread's tid (in the tracer's pid namespace). */
    long eventMessage() throws TraceException {
        call("PTRACE_GETEVENTMSG", Ptrace.GETEVENTMSG, 0, Pointer.nativeValue(buffer));
        return buffer.getLong(0);
    }

    /** Waits for the next ptrace stop; returns the raw wait status. Throws if the tracee ended. */
    public int awaitStop() throws TraceException {
        int[] status = new int[1];
        for (;;) {
            try {
                K.waitpid(pid, status, Ptrace.WALL);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == 4) {
                    continue;   // EINTR
                }
                throw new TraceException("waitpid " + pid, e);
            }
            int s = status[0];
            if ((s & 0xff) == 0x7f) {
                return s;
            }
            attached = false;
            throw new TraceException("process " + pid + " ended while traced (wait status " + s + ")");
        }
    }

    /** The signal of a stop (SIGTRAP for a single step), from a wait status. */
    static int stopSignal(int status) {
        return (status >> 8) & 0xff;
    }

    public Registers registers() throws TraceException {
        return new Registers(getRegset(Ptrace.NT_PRSTATUS));
    }

    public void setRegisters(Registers regs) throws TraceException {
        setRegset(Ptrace.NT_PRSTATUS, regs.toBytes());
    }

    public byte[] xstate() throws TraceException {
        return getRegset(Ptrace.NT_X86_XSTATE);
    }

    public void setXstate(byte[] xstate) throws TraceException {
        setRegset(Ptrace.NT_X86_XSTATE, xstate);
    }

    private byte[] getRegset(int type) throws TraceException {
        iov.setPointer(0, buffer);
        iov.setLong(8, XSTATE_MAX);
        call("PTRACE_GETREGSET " + type, Ptrace.GETREGSET, type, Pointer.nativeValue(iov));
        return buffer.getByteArray(0, (int) iov.getLong(8));
    }

    private void setRegset(int type, byte[] data) throws TraceException {
        buffer.write(0, data, 0, data.length);
        iov.setPointer(0, buffer);
        iov.setLong(8, data.length);
        call("PTRACE_SETREGSET " + type, Ptrace.SETREGSET, type, Pointer.nativeValue(iov));
    }

    public long sigmask() throws TraceException {
        call("PTRACE_GETSIGMASK", Ptrace.GETSIGMASK, 8, Pointer.nativeValue(buffer));
        return buffer.getLong(0);
    }

    public void setSigmask(long mask) throws TraceException {
        buffer.setLong(0, mask);
        call("PTRACE_SETSIGMASK", Ptrace.SETSIGMASK, 8, Pointer.nativeValue(buffer));
    }

    /** {pointer, length, signature}; length 0 when the thread has no rseq registration. */
    public long[] rseqConfiguration() throws TraceException {
        buffer.clear(24);
        call("PTRACE_GET_RSEQ_CONFIGURATION", Ptrace.GET_RSEQ_CONFIGURATION, 24, Pointer.nativeValue(buffer));
        return new long[] {buffer.getLong(0), Integer.toUnsignedLong(buffer.getInt(8)), Integer.toUnsignedLong(buffer.getInt(12))};
    }

    /** Executes one instruction and waits for its SIGTRAP. */
    void singleStep() throws TraceException {
        int status = step();
        if (stopSignal(status) != Ptrace.SIGTRAP) {
            throw new TraceException("process " + pid + " stopped with signal " + stopSignal(status)
                    + " instead of the single-step trap");
        }
    }

    /** PTRACE_SINGLESTEP, then the raw status of the next stop (which may be a ptrace event). */
    int step() throws TraceException {
        call("PTRACE_SINGLESTEP", Ptrace.SINGLESTEP, 0, 0);
        return awaitStop();
    }

    /** The ptrace event of a stop (PTRACE_EVENT_CLONE, ...), 0 for a plain signal stop. */
    static int event(int status) {
        return status >>> 16;
    }

    /**
     * Runs the tracee from its current registers until it stops with SIGTRAP (an int3 of
     * injected code). Any other stop is an error.
     */
    void runToTrap() throws TraceException {
        call("PTRACE_CONT", Ptrace.CONT, 0, 0);
        int status = awaitStop();
        if (stopSignal(status) != Ptrace.SIGTRAP) {
            throw new TraceException("process " + pid + " stopped with signal " + stopSignal(status)
                    + " instead of the injected code's trap");
        }
    }

    /** Lets the tracee run on (with the registers it has now). Harmless if already detached. */
    public void detach() {
        if (!attached) {
            return;
        }
        attached = false;
        try {
            K.ptrace(Ptrace.DETACH, pid, 0, 0);
        } catch (LastErrorException e) {
            // gone already, or not stopped: the kernel detaches when this thread ends anyway
        }
    }

    /**
     * SIGKILL while still stopped: not one more instruction of the program runs, and it can
     * never return to user mode. Does not wait for it to end (freeing 1 GiB of memory takes the
     * dying process 0.1-0.3 s here): the kernel detaches it when the tracer thread ends, and its
     * parent (the LH's init) reaps it and reports its death as usual.
     */
    public void kill() {
        if (!attached) {
            return;
        }
        try {
            K.kill(pid, Ptrace.SIGKILL);
        } catch (LastErrorException e) {
            // already gone
        }
        attached = false;
    }

    /** SIGKILL while still stopped (so not one more instruction runs), then reaps the trace. */
    public void killAndReap() {
        if (!attached) {
            return;
        }
        try {
            K.kill(pid, Ptrace.SIGKILL);
        } catch (LastErrorException e) {
            // already gone
        }
        int[] status = new int[1];
        for (;;) {
            try {
                K.waitpid(pid, status, Ptrace.WALL);
                if ((status[0] & 0xff) != 0x7f) {
                    break;   // exited or killed: the real parent (the LH's init) now gets it
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() != 4) {
                    break;
                }
            }
        }
        attached = false;
    }

    private void call(String what, int request, long addr, long data) throws TraceException {
        try {
            K.ptrace(request, pid, addr, data);
        } catch (LastErrorException e) {
            throw new TraceException(what + " on " + pid, e);
        }
    }
}
