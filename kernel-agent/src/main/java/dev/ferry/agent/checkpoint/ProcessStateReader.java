package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.proto.v1.Credentials;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.MmFields;
import dev.ferry.proto.v1.ProcessImage;
import dev.ferry.proto.v1.RlimitValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one stopped process of an LH (every thread seized and stopped): injected calls
 * (brk, signal actions, timers; per thread tid address and alternate stack), each thread's
 * state, /proc state (mm fields, auxv, credentials, umask, nice, limits, exe, cwd), and its
 * pages into a {@link PageSink} (none for the pre-copy freeze, whose pages came in rounds).
 */
final class ProcessStateReader {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    private final PhaseTimer timer;

    ProcessStateReader(PhaseTimer timer) {
        this.timer = timer;
    }

    /** {@code raw}: each thread's registers as stopped, in {@code threads}' order. */
    ProcessImage.Builder read(LhProcesses.Member m, TracedThreads threads, List<Registers> raw, List<FileDescriptor> fds,
                              List<Mapping.Builder> mappings, PageSink sink) throws Exception {
        int hostPid = m.hostPid();
        Path procPid = Path.of("/proc", Integer.toString(hostPid));
        Tracee leader = threads.leader();
        try (RemoteMemory memory = new RemoteMemory(hostPid)) {
            Mapping.Builder vdso = mappings.stream().filter(x -> x.getSpecial() == Mapping.Special.VDSO).findFirst()
                    .orElseThrow(() -> new CaptureException("process " + hostPid + " has no [vdso] to inject system calls from", null));
            int at = SyscallInjector.findSyscallInstruction(memory.read(vdso.getStart(), (int) (vdso.getEnd() - vdso.getStart())));
            if (at < 0) {
                throw new CaptureException("no syscall instruction in the vdso of " + hostPid, null);
            }
            List<Tracee> others = threads.all().subList(1, threads.all().size());
            InjectedState injected = InjectedState.read(leader, new SyscallInjector(leader, vdso.getStart() + at), memory, others);
            ProcessStatus status = ProcessStatus.parse(Files.readString(procPid.resolve("status")));
            ProcStat stat = ProcStat.parse(Files.readString(procPid.resolve("stat")));
            MmFields mm = stat.mmFields().setBrk(injected.brk)
                    .setAuxv(ByteString.copyFrom(Files.readAllBytes(procPid.resolve("auxv")))).build();
            ProcessImage.Builder p = ProcessImage.newBuilder().setPid(m.pid()).setPpid(m.ppid()).setPgid(m.pgid()).setSid(m.sid())
                    .setExe(Files.readSymbolicLink(procPid.resolve("exe")).toString())
                    .setComm(Files.readString(procPid.resolve("comm")).strip())
                    .setCwd(Files.readSymbolicLink(procPid.resolve("cwd")).toString()).setUmask(status.umask())
                    .setNice(stat.nice()).setCredentials(credentials(status)).addAllRlimits(rlimits(hostPid)).setMm(mm)
                    .addAllFds(fds).addAllSignalActions(injected.actions).setSharedPending(status.sharedPending())
                    .addAllThreads(ThreadStates.read(hostPid, threads.all(), raw, injected)).addAllItimers(injected.itimers);
            timer.mark("registers, kernel state");
            p.setPageCount(sink == null ? 0 : new PageReader(hostPid, m.pid(), memory).read(mappings, sink));
            timer.mark("read pages");
            for (Mapping.Builder x : mappings) {
                if (!x.getPath().isEmpty() && !x.getContentCarried() && x.getShmId() == 0) {
                    x.setFile(FileIdentities.of(Path.of(x.getPath()), x.getOffset(), x.getEnd() - x.getStart()));
                }
                p.addMappings(x);
            }
            timer.mark("file identities");
            return p;
        }
    }

    /** A zombie: what its parent may still wait for. */
    static ProcessImage.Builder zombie(LhProcesses.Member m) {
        return ProcessImage.newBuilder().setPid(m.pid()).setPpid(m.ppid()).setPgid(m.pgid()).setSid(m.sid()).setZombie(true)
                .setExitStatus(m.exitStatus()).setComm(m.name());
    }

    private static Credentials credentials(ProcessStatus s) {
        Credentials.Builder c = Credentials.newBuilder().setRuid(s.uids()[0]).setEuid(s.uids()[1]).setSuid(s.uids()[2])
                .setRgid(s.gids()[0]).setEgid(s.gids()[1]).setSgid(s.gids()[2]);
        s.groups().forEach(c::addGroups);
        return c.build();
    }

    private static List<RlimitValue> rlimits(int hostPid) {
        List<RlimitValue> out = new ArrayList<>();
        for (int r = 0; r < 16; r++) {
            long[] old = new long[2];
            K.prlimit(hostPid, r, null, old);
            out.add(RlimitValue.newBuilder().setResource(r).setSoft(old[0]).setHard(old[1]).build());
        }
        return out;
    }
}
