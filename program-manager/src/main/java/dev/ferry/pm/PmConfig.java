package dev.ferry.pm;

import java.net.InetAddress;
import dev.ferry.pm.owner.OwnerPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * Everything a program manager is configured with (command line, see {@link ProgramManagerMain}).
 *
 * @param loadAverageWeight how much the machine's load average counts in this host's load
 * @param answerDelayMsPerLoad how long a willing host waits per unit of load before answering
 *     "who takes a guest?", so the least loaded host answers first (V's decentralised scheduler)
 * @param owner how guests are treated around this workstation's owner (idle threshold, reclaim)
 * @param inputDevices devices watched for the owner's input besides the usual ones, or instead
 *     of them when {@code onlyInputDevices}
 */
public record PmConfig(
        String hostName,
        InetAddress address,
        int grpcPort,
        InetAddress group,
        int groupPort,
        String interfaceName,
        Path stateDir,
        Path socketPath,
        Path keyFile,
        String cgroupName,
        int guestNice,
        OptionalInt ownerUid,
        boolean acceptGuests,
        double maxLoad,
        long minFreeMem,
        double loadAverageWeight,
        double answerDelayMsPerLoad,
        double maxAnswerDelayMs,
        OwnerPolicy owner,
        List<Path> inputDevices,
        boolean onlyInputDevices) {

    public PmConfig {
        inputDevices = List.copyOf(inputDevices);
    }

    public String grpcAddress() {
        return address.getHostAddress() + ":" + grpcPort;
    }
}
