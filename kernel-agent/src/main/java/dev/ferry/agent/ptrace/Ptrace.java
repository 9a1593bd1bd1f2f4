package dev.ferry.agent.ptrace;

/** ptrace(2) requests and wait(2) flags used by the tracer (x86_64 values). */
final class Ptrace {
    static final int PEEKDATA = 2;
    static final int SETOPTIONS = 0x4200;
    static final int GETEVENTMSG = 0x4201;
    static final int CONT = 7;
    static final int SINGLESTEP = 9;
    static final int DETACH = 17;
    static final int GETREGSET = 0x4204;
    static final int SETREGSET = 0x4205;
    static final int SEIZE = 0x4206;
    static final int INTERRUPT = 0x4207;
    static final int GETSIGMASK = 0x420a;
    static final int SETSIGMASK = 0x420b;
    static final int GET_RSEQ_CONFIGURATION = 0x420f;

    static final int O_TRACECLONE = 1 << 3;
    static final int O_EXITKILL = 1 << 20;
    static final int EVENT_CLONE = 3;
    static final int EVENT_STOP = 128;

    static final int NT_PRSTATUS = 1;
    static final int NT_X86_XSTATE = 0x202;

    static final int WALL = 0x40000000;
    static final int SIGTRAP = 5;
    static final int SIGKILL = 9;

    private Ptrace() {}
}
