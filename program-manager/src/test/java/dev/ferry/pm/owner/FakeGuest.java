package dev.ferry.pm.owner;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.MigrateResult;
import java.util.ArrayList;
import java.util.List;

/** A guest that records what the evacuator did to it; moves fail with {@link #failWith} while set. */
final class FakeGuest implements Evacuator.Guest {
    final String id;
    final List<String> events = new ArrayList<>();
    ErrorCode failWith;
    boolean frozen;
    boolean killed;
    boolean busy;
    boolean stoppedByUser;

    FakeGuest(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String program() {
        return "prog";
    }

    @Override
    public boolean busy() {
        return busy;
    }

    @Override
    public boolean stoppedByUser() {
        return stoppedByUser;
    }

    @Override
    public MigrateResult move(String to) throws FerryException {
        events.add("move " + to + (frozen ? " while frozen" : ""));
        if (failWith != null) {
            throw new FerryException(failWith, "no luck (" + failWith + ")");
        }
        return MigrateResult.newBuilder().setLhId(id).setTo(to.equals("*") ? "h3" : to).setMoved(true).build();
    }

    @Override
    public void freeze() {
        events.add("freeze");
        frozen = true;
    }

    @Override
    public void thaw() {
        events.add("thaw");
        frozen = false;
    }

    @Override
    public void kill() {
        events.add("kill");
        killed = true;
    }
}
