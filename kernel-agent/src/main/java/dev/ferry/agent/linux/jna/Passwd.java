package dev.ferry.agent.linux.jna;

import com.sun.jna.Structure;

/** glibc's {@code struct passwd} (LP64 layout). */
@Structure.FieldOrder({"pw_name", "pw_passwd", "pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell"})
public final class Passwd extends Structure {
    public String pw_name;
    public String pw_passwd;
    public int pw_uid;
    public int pw_gid;
    public String pw_gecos;
    public String pw_dir;
    public String pw_shell;
}
