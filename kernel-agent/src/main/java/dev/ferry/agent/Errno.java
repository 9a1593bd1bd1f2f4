package dev.ferry.agent;

import java.util.Map;

/** Names and messages of the Linux error numbers a launch can report (x86_64 / generic numbers). */
public final class Errno {
    public static final int ENOENT = 2;

    private record Entry(String name, String message) {}

    private static final Map<Integer, Entry> KNOWN = Map.ofEntries(
            Map.entry(1, new Entry("EPERM", "Operation not permitted")),
            Map.entry(2, new Entry("ENOENT", "No such file or directory")),
            Map.entry(3, new Entry("ESRCH", "No such process")),
            Map.entry(4, new Entry("EINTR", "Interrupted system call")),
            Map.entry(5, new Entry("EIO", "Input/output error")),
            Map.entry(7, new Entry("E2BIG", "Argument list too long")),
            Map.entry(8, new Entry("ENOEXEC", "Exec format error")),
            Map.entry(9, new Entry("EBADF", "Bad file descriptor")),
            Map.entry(11, new Entry("EAGAIN", "Resource temporarily unavailable")),
            Map.entry(12, new Entry("ENOMEM", "Cannot allocate memory")),
            Map.entry(13, new Entry("EACCES", "Permission denied")),
            Map.entry(14, new Entry("EFAULT", "Bad address")),
            Map.entry(16, new Entry("EBUSY", "Device or resource busy")),
            Map.entry(17, new Entry("EEXIST", "File exists")),
            Map.entry(20, new Entry("ENOTDIR", "Not a directory")),
            Map.entry(21, new Entry("EISDIR", "Is a directory")),
            Map.entry(22, new Entry("EINVAL", "Invalid argument")),
            Map.entry(23, new Entry("ENFILE", "Too many open files in system")),
            Map.entry(24, new Entry("EMFILE", "Too many open files")),
            Map.entry(26, new Entry("ETXTBSY", "Text file busy")),
            Map.entry(36, new Entry("ENAMETOOLONG", "File name too long")),
            Map.entry(40, new Entry("ELOOP", "Too many levels of symbolic links")),
            Map.entry(116, new Entry("ESTALE", "Stale file handle")));

    private Errno() {}

    /** "No such file or directory (ENOENT)", or "error 99" for numbers not in the table. */
    public static String describe(int errno) {
        Entry e = KNOWN.get(errno);
        return e == null ? "error " + errno : e.message + " (" + e.name + ")";
    }
}
