package dev.ferry.pm;

import java.security.SecureRandom;

/** Cluster-unique logical-host ids: 10 random lowercase letters and digits (about 51 bits). */
public final class LhIds {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private LhIds() {}

    public static String next() {
        StringBuilder b = new StringBuilder(10);
        // A letter first, so an id never looks like a number (or a pid) to a user.
        b.append(ALPHABET.charAt(RANDOM.nextInt(26)));
        for (int i = 1; i < 10; i++) {
            b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }
}
