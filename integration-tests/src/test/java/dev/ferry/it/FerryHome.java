package dev.ferry.it;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Ferry checkout under test: the first directory above the working dir with bin/vcluster,
 * unless the system property {@code ferry.home} names one.
 */
public final class FerryHome {
  private FerryHome() {}

  public static Path locate() {
    String explicit = System.getProperty("ferry.home");
    if (explicit != null && !explicit.isBlank()) {
      Path home = Path.of(explicit).toAbsolutePath();
      if (!Files.isExecutable(home.resolve("bin/vcluster"))) {
        throw new IllegalStateException("ferry.home=" + home + " has no bin/vcluster");
      }
      return home;
    }
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isExecutable(dir.resolve("bin/vcluster"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no bin/vcluster in " + start + " or any directory above it");
  }
}
