package dev.ferry.agent.rebuild;

import dev.ferry.agent.checkpoint.Devices;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PipeImage;
import dev.ferry.proto.v1.ProcessImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What must hold before the open files of an image can be recreated here: reopened paths
 * still exist, devices are still the same stateless devices, and every pipe the fds name is in
 * the image (else a corrupted or foreign image). An end of a pipe no process holds is fine: it
 * was closed.
 */
final class FdChecks {
    private FdChecks() {}

    static List<String> problems(LhImage image) {
        List<String> problems = new ArrayList<>();
        Map<Integer, boolean[]> ends = new HashMap<>();
        java.util.Set<Integer> shared = new java.util.HashSet<>();
        image.getSharedMemoryList().forEach(m -> shared.add(m.getId()));
        for (PipeImage p : image.getPipesList()) {
            if (ends.put(p.getId(), new boolean[2]) != null) {
                problems.add("pipe " + p.getId() + " is in the image twice");
            }
            if (p.getCapacity() != 0 && p.getBuffered().size() > p.getCapacity()) {
                problems.add("pipe " + p.getId() + " holds " + p.getBuffered().size() + " bytes, more than its capacity "
                        + p.getCapacity());
            }
        }
        for (ProcessImage proc : image.getProcessesList()) {
            for (FileDescriptor f : proc.getFdsList()) {
                String why = f.getKind() == FileDescriptor.Kind.SHARED_MEMORY
                        ? (shared.contains(f.getShmId()) ? null : "names shared memory object " + f.getShmId() + ", which is not in the image")
                        : problem(f, ends);
                if (why != null) {
                    problems.add("fd " + f.getFd() + (image.getProcessesCount() > 1 ? " of process " + proc.getPid() : "") + ": " + why);
                }
            }
        }
        return problems;
    }

    private static String problem(FileDescriptor f, Map<Integer, boolean[]> ends) {
        switch (f.getKind()) {
            case PIPE -> {
                boolean[] held = ends.get(f.getPipeId());
                if (held == null) {
                    return "names pipe " + f.getPipeId() + ", which is not in the image";
                }
                held[f.getWriteEnd() ? 1 : 0] = true;
                return null;
            }
            case STDIO_PIPE -> {
                return f.getStdioSlot() <= 2 ? null : "names stdio slot " + f.getStdioSlot();
            }
            case REGULAR, DIRECTORY -> {
                return Files.exists(Path.of(f.getPath())) ? null : f.getPath() + " no longer exists";
            }
            case DEV_NULL, DEVICE -> {
                return device(f);
            }
            default -> {
                return "is of an unknown kind (" + f.getKindValue() + ")";
            }
        }
    }

    private static String device(FileDescriptor f) {
        try {
            long rdev = Devices.charDevice(Path.of(f.getPath()));
            if (rdev == f.getRdev() && Devices.stateless(rdev)) {
                return null;
            }
            return f.getPath() + " is no longer the device " + Devices.major(f.getRdev()) + ":" + Devices.minor(f.getRdev());
        } catch (IOException e) {
            return f.getPath() + " cannot be checked: " + e.getMessage();
        }
    }
}
