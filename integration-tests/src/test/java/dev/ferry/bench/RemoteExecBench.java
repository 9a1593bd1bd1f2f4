package dev.ferry.bench;

import dev.ferry.lhcache.ClusterKey;
import dev.ferry.lhcache.ReplayGuard;
import dev.ferry.pm.LhIds;
import dev.ferry.pm.peer.PeerAuth;
import dev.ferry.pm.peer.PeerClients;
import dev.ferry.proto.v1.AttachDown;
import dev.ferry.proto.v1.AttachOpen;
import dev.ferry.proto.v1.AttachUp;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CreateLhReply;
import dev.ferry.proto.v1.CreateLhRequest;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.StatusRequest;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 2, manager-side remote-execution setup: what one manager costs another to start a
 * program, without any command's JVM. From another host, authenticated with the cluster key
 * like a manager: the CreateLh call for {@code --program} (the LH exists and the program runs
 * when it returns), and the whole remote run (CreateLh, then an Attach stream until it delivers
 * the exit). Baselines in the same run, interleaved: an authenticated Status call (gRPC round
 * trip, no work) and a local fork/exec of the same program from this JVM.
 *
 * <p>{@code vcluster exec h1 java -cp CP dev.ferry.bench.RemoteExecBench --key KEY
 * --target 198.18.0.2:7350}
 */
public final class RemoteExecBench {
  private static final Map<String, String> DEFAULTS = Map.of(
      "key", "", "target", "", "origin", "h1", "program", "/bin/true",
      "n", "100", "warmup", "10", "status-warmup", "300", "gap-ms", "20");
  private static final long CALL_TIMEOUT_MS = 15_000;

  private RemoteExecBench() {}

  public static void main(String[] argv) throws Exception {
    BenchArgs args = BenchArgs.parse(argv, DEFAULTS);
    String target = args.string("target");
    PeerAuth auth = new PeerAuth(ClusterKey.load(args.path("key")),
        new ReplayGuard(Duration.ofSeconds(60), System::currentTimeMillis), System::currentTimeMillis);
    Caller caller = Caller.newBuilder().setUid(0).setGid(0).setUser("root").setHost(args.string("origin")).build();
    ProgramSpec spec = ProgramSpec.newBuilder().addArgv(args.string("program"))
        .addEnv("PATH=/usr/bin:/bin").setCwd("/").setUmask(022).build();
    Samples status = new Samples("Status call (authenticated gRPC RTT)");
    Samples fork = new Samples("local fork/exec+wait " + args.string("program") + " (JVM)");
    Samples create = new Samples("CreateLh " + args.string("program"));
    Samples afterCreate = new Samples("  CreateLh reply -> exit via Attach");
    Samples whole = new Samples("CreateLh + Attach until exit (whole run)");
    int warmup = args.integer("warmup");
    int total = warmup + args.integer("n");
    long firstCreate = -1;
    long firstWhole = -1;
    try (PeerClients peers = new PeerClients(auth)) {
      // Cheap calls first, so that both JVMs' gRPC paths are compiled before anything is measured.
      for (int i = 0; i < args.integer("status-warmup"); i++) {
        peers.blocking(target, CALL_TIMEOUT_MS).status(StatusRequest.getDefaultInstance());
      }
      for (int i = 0; i < total; i++) {
        boolean measured = i >= warmup;
        long t0 = System.nanoTime();
        peers.blocking(target, CALL_TIMEOUT_MS).status(StatusRequest.getDefaultInstance());
        long t1 = System.nanoTime();
        new ProcessBuilder(args.string("program")).start().waitFor();
        long t2 = System.nanoTime();
        CreateLhReply reply = peers.blocking(target, CALL_TIMEOUT_MS).createLh(CreateLhRequest.newBuilder()
            .setLhId(LhIds.next()).setCaller(caller).setSpec(spec).setOriginHost(args.string("origin")).build());
        long t3 = System.nanoTime();
        ExitStatus exit = attachUntilExit(peers, target, reply.getLhId(), caller);
        long t4 = System.nanoTime();
        if (exit.getCode() != 0) {
          throw new IllegalStateException("remote " + args.string("program") + " failed: " + exit);
        }
        if (i == 0) {
          firstCreate = t3 - t2;
          firstWhole = t4 - t2;
        }
        if (measured) {
          status.add(t1 - t0);
          fork.add(t2 - t1);
          create.add(t3 - t2);
          afterCreate.add(t4 - t3);
          whole.add(t4 - t2);
        }
        Thread.sleep(args.integer("gap-ms"));
      }
    }
    System.out.printf("remote execution setup, client on %s, target %s, %d warm-up runs%n",
        args.string("origin"), target, warmup);
    System.out.println(Samples.header());
    for (Samples s : new Samples[] {status, fork, create, afterCreate, whole}) {
      System.out.println("  " + s.summary());
    }
    System.out.printf("  first run (before the warm-up runs): CreateLh %.3f ms, whole run %.3f ms%n",
        firstCreate / 1e6, firstWhole / 1e6);
  }

  /** Opens an Attach stream (no stdin: half-closed at once) and waits for the exit message. */
  private static ExitStatus attachUntilExit(PeerClients peers, String target, String lhId, Caller caller)
      throws Exception {
    CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    StreamObserver<AttachUp> up = peers.async(target).attach(new StreamObserver<>() {
      @Override
      public void onNext(AttachDown down) {
        if (down.hasExit()) {
          exit.complete(down.getExit());
        }
      }

      @Override
      public void onError(Throwable t) {
        exit.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        exit.completeExceptionally(new IllegalStateException("Attach ended without an exit"));
      }
    });
    up.onNext(AttachUp.newBuilder().setOpen(AttachOpen.newBuilder().setLhId(lhId).setCaller(caller)).build());
    up.onCompleted();
    return exit.get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }
}
