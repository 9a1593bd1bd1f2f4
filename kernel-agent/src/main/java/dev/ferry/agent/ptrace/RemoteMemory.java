package dev.ferry.agent.ptrace;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ferry.agent.linux.jna.KernelCalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another process' memory: process_vm_readv/writev (fast, honours the protections) and
 * /proc/PID/mem (slower, also reaches pages of non-readable or read-only mappings).
 * Transfers go through one reusable native buffer of {@link #BUFFER} bytes.
 */
public final class RemoteMemory implements AutoCloseable {
    public static final int BUFFER = 1 << 20;
    private static final KernelCalls K = KernelCalls.INSTANCE;

    private final int pid;
    private final Memory buffer = new Memory(BUFFER);
    private final Memory iovs = new Memory(32);
    private FileChannel mem;

    public RemoteMemory(int pid) {
        this.pid = pid;
    }

    /** The native buffer: fill it before {@link #writeFromBuffer}, read it after {@link #readIntoBuffer}. */
    public Memory buffer() {
        return buffer;
    }

    /** Reads {@code length} (at most {@link #BUFFER}) bytes at {@code address} into the buffer. */
    public void readIntoBuffer(long address, int length, boolean readable) throws IOException {
        if (readable) {
            transfer(address, length, false);
        } else {
            procMem(address, length, false);
        }
    }

    public void writeFromBuffer(long address, int length) throws IOException {
        transfer(address, length, true);
    }

    public byte[] read(long address, int length) throws IOException {
        procMem(address, length, false);
        return buffer.getByteArray(0, length);
    }

    public void write(long address, byte[] data) throws IOException {
        buffer.write(0, data, 0, data.length);
        procMem(address, data.length, true);
    }

    private void transfer(long address, int length, boolean write) throws IOException {
        iovs.setPointer(0, buffer);
        iovs.setLong(8, length);
        iovs.setLong(16, address);
        iovs.setLong(24, length);
        long done;
        try {
            done = write ? K.process_vm_writev(pid, iovs, 1, iovs.share(16), 1, 0)
                    : K.process_vm_readv(pid, iovs, 1, iovs.share(16), 1, 0);
        } catch (LastErrorException e) {
            throw new IOException((write ? "process_vm_writev" : "process_vm_readv") + " of " + length + " bytes at 0x"
                    + Long.toHexString(address) + " in " + pid + ": errno " + e.getErrorCode(), e);
        }
        if (done != length) {
            throw new IOException("short " + (write ? "write" : "read") + " at 0x" + Long.toHexString(address)
                    + " in " + pid + ": " + done + " of " + length);
        }
    }

    private void procMem(long address, int length, boolean write) throws IOException {
        if (mem == null) {
            mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        ByteBuffer view = buffer.getByteBuffer(0, length);
        long position = address;
        while (view.hasRemaining()) {
            int n = write ? mem.write(view, position) : mem.read(view, position);
            if (n <= 0) {
                throw new IOException("/proc/" + pid + "/mem: cannot " + (write ? "write" : "read") + " at 0x"
                        + Long.toHexString(position));
            }
            position += n;
        }
    }


    @Override
    public void close() throws IOException {
        if (mem != null) {
            mem.close();
        }
    }
}
