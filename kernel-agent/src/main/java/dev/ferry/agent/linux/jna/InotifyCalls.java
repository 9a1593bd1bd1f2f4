package dev.ferry.agent.linux.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;

/**
 * inotify and the calls around it that owner-idle detection needs: watch device nodes, wait
 * for events with a timeout (so the watching thread can be stopped), read them.
 */
public interface InotifyCalls extends Library {
    InotifyCalls INSTANCE = Native.load("c", InotifyCalls.class);

    int inotify_init1(int flags) throws LastErrorException;

    int inotify_add_watch(int fd, String path, int mask) throws LastErrorException;

    int poll(PollFd[] fds, long count, int timeoutMillis) throws LastErrorException;

    long read(int fd, byte[] buf, long count) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int IN_ACCESS = 0x1;
    int IN_MODIFY = 0x2;
    int IN_CREATE = 0x100;
    int IN_DELETE_SELF = 0x400;
    int IN_Q_OVERFLOW = 0x4000;
    int IN_IGNORED = 0x8000;
    int IN_ONLYDIR = 0x01000000;
    int IN_NONBLOCK = 04000;
    int IN_CLOEXEC = 02000000;
    short POLLIN = 1;
    int EINTR = 4;
    int EAGAIN = 11;

    /** struct pollfd: int fd; short events; short revents. */
    @Structure.FieldOrder({"fd", "events", "revents"})
    class PollFd extends Structure {
        public int fd;
        public short events;
        public short revents;
    }
}
