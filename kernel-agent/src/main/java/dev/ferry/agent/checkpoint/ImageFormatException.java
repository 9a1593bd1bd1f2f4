package dev.ferry.agent.checkpoint;

/** An image directory that is not a Ferry image, is of another version, truncated or corrupted. */
public final class ImageFormatException extends Exception {
    public ImageFormatException(String message) {
        super(message);
    }
}
