package dev.ferry.cli;

import com.google.protobuf.MessageLite;
import dev.ferry.proto.v1.LocalRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A private Ferry checkout layout for running the real bin/ scripts in tests: the scripts are
 * copied from the repository, the module jar is made from target/classes (tests run before
 * Maven packages the jar) and its dependencies go to target/lib. Deleted on close.
 */
final class LauncherFixture implements AutoCloseable {
    final Path home;

    LauncherFixture() throws IOException, URISyntaxException {
        home = Files.createTempDirectory("ferry-home-");
        Path repository = Path.of("").toAbsolutePath().getParent();
        Files.createDirectories(home.resolve("bin/lib"));
        for (String script : new String[] {"run", "lhosts", "lib/java.sh"}) {
            Files.copy(repository.resolve("bin").resolve(script), home.resolve("bin").resolve(script),
                    StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path lib = Files.createDirectories(home.resolve("migrateprog/target/lib"));
        jar(codeSource(Run.class), home.resolve("migrateprog/target/migrateprog-0.0-test.jar"));
        for (Class<?> dependency : new Class<?>[] {LocalRequest.class, MessageLite.class}) {
            Path source = codeSource(dependency);
            Path target = lib.resolve(dependency.getSimpleName() + "-dependency.jar");
            if (Files.isDirectory(source)) {
                jar(source, target);
            } else {
                Files.copy(source, target);
            }
        }
    }

    Path script(String name) {
        return home.resolve("bin").resolve(name);
    }

    private static Path codeSource(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             Stream<Path> files = Files.walk(classes)) {
            for (Path path : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(path).toString().replace('\\', '/')));
                Files.copy(path, out);
                out.closeEntry();
            }
        }
    }

    @Override
    public void close() throws IOException {
        Files.walkFileTree(home, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
