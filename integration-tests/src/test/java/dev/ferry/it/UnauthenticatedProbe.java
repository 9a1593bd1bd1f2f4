package dev.ferry.it;

import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CreateLhRequest;
import dev.ferry.proto.v1.ListLhsRequest;
import dev.ferry.proto.v1.ProgramManagerGrpc;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.StatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Calls a program manager's peer gRPC service without the cluster-key headers, as anyone on
 * the network could. Run inside a host namespace (the test JVM is outside the cluster network):
 * {@code java -cp ... dev.ferry.it.UnauthenticatedProbe 198.18.0.2:7350 /tmp/marker}. Prints one
 * line per call: the method and the gRPC status code it got ("OK" if it was served).
 */
public final class UnauthenticatedProbe {
  private UnauthenticatedProbe() {}

  public static void main(String[] args) throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(args[0]).usePlaintext().build();
    try {
      ProgramManagerGrpc.ProgramManagerBlockingStub stub =
          ProgramManagerGrpc.newBlockingStub(channel);
      report("ListLhs", () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS)
          .listLhs(ListLhsRequest.getDefaultInstance()));
      report("Status", () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance()));
      // If this were served, the marker file would appear: a program run for a stranger.
      CreateLhRequest create = CreateLhRequest.newBuilder()
          .setLhId("probe" + System.nanoTime())
          .setCaller(Caller.newBuilder().setUid(0).setGid(0).setUser("root").setHost("h1"))
          .setSpec(ProgramSpec.newBuilder().addArgv("/usr/bin/touch").addArgv(args[1])
              .addEnv("PATH=/usr/bin:/bin").setCwd("/").setUmask(022))
          .setOriginHost("h1")
          .build();
      report("CreateLh", () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).createLh(create));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void report(String method, Supplier<?> call) {
    String code;
    try {
      call.get();
      code = "OK";
    } catch (StatusRuntimeException e) {
      code = e.getStatus().getCode().name();
    }
    System.out.println(method + " " + code);
  }
}
