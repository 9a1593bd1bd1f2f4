package dev.ferry.pm.owner;

import dev.ferry.pm.FerryException;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.pm.migrate.MigrationSource;
import dev.ferry.proto.v1.MigrateResult;
import java.io.IOException;
import java.util.List;

/** The guests in this manager's registry, as the evacuator sees them; they move with migrateprog's engine. */
public final class HostedGuests implements Evacuator.Guests {
    private final LhRegistry registry;
    private final MigrationSource migration;

    public HostedGuests(LhRegistry registry, MigrationSource migration) {
        this.registry = registry;
        this.migration = migration;
    }

    @Override
    public List<Evacuator.Guest> current() {
        return registry.all().stream()
                .filter(lh -> lh.owner().guest() && !lh.exit().isDone() && lh.movedTo() == null)
                .map(lh -> (Evacuator.Guest) new HostedGuest(lh, migration))
                .toList();
    }

    private record HostedGuest(HostedLh lh, MigrationSource migration) implements Evacuator.Guest {
        @Override
        public String id() {
            return lh.id();
        }

        @Override
        public String program() {
            return lh.program();
        }

        @Override
        public boolean busy() {
            return lh.migrating() || lh.inDoubt();
        }

        @Override
        public boolean stoppedByUser() {
            return lh.userStopped();
        }

        @Override
        public MigrateResult move(String to) throws FerryException {
            return migration.migrate(lh, to);
        }

        @Override
        public void freeze() throws IOException {
            lh.freezeForOwner();
        }

        @Override
        public void thaw() throws IOException {
            lh.thawForOwner();
        }

        @Override
        public void kill() {
            lh.kill();
        }
    }
}
