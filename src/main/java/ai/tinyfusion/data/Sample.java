package ai.tinyfusion.data;

/**
 * One dataset item: {@code image} is C×H×W floats in C order (channel, row, column), {@code label}
 * its class index.
 */
public record Sample(float[] image, int label) {}
