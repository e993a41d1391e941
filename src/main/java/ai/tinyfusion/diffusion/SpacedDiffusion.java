package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A diffusion process that keeps only some steps of a base process. Its betas are recomputed from the base
 * process's cumulative alphas at the kept steps, so that abar of spaced step k equals abar of original step
 * {@code timestepMap()[k]}; every method takes indices into the shorter schedule, and the model is called with
 * the corresponding original timesteps (no rescaling of their values).
 */
public class SpacedDiffusion extends GaussianDiffusion {
    private final int[] timestepMap;
    private final int originalNumSteps;

    /**
     * @param useTimesteps original steps to keep (any order; duplicates and out-of-range entries are ignored)
     * @param baseBetas the betas of the original process
     */
    public SpacedDiffusion(
            int[] useTimesteps,
            double[] baseBetas,
            ModelMeanType modelMeanType,
            ModelVarType modelVarType,
            LossType lossType) {
        this(
                respace(useTimesteps, baseBetas, modelMeanType, modelVarType, lossType),
                baseBetas.length,
                modelMeanType,
                modelVarType,
                lossType);
    }

    private SpacedDiffusion(
            Respaced r,
            int originalNumSteps,
            ModelMeanType modelMeanType,
            ModelVarType modelVarType,
            LossType lossType) {
        super(r.betas, modelMeanType, modelVarType, lossType);
        this.timestepMap = r.map;
        this.originalNumSteps = originalNumSteps;
    }

    private record Respaced(double[] betas, int[] map) {}

    private static Respaced respace(
            int[] useTimesteps, double[] baseBetas, ModelMeanType meanType, ModelVarType varType, LossType lossType) {
        double[] baseCumprod = new GaussianDiffusion(baseBetas, meanType, varType, lossType).alphasCumprod();
        boolean[] keep = new boolean[baseCumprod.length];
        for (int step : useTimesteps) {
            if (step >= 0 && step < keep.length) {
                keep[step] = true;
            }
        }
        double last = 1.0;
        List<Double> betas = new ArrayList<>();
        List<Integer> map = new ArrayList<>();
        for (int i = 0; i < baseCumprod.length; i++) {
            if (keep[i]) {
                betas.add(1 - baseCumprod[i] / last);
                last = baseCumprod[i];
                map.add(i);
            }
        }
        if (map.isEmpty()) {
            throw new IllegalArgumentException("no timestep of the " + baseBetas.length + "-step process is kept");
        }
        return new Respaced(
                betas.stream().mapToDouble(Double::doubleValue).toArray(),
                map.stream().mapToInt(Integer::intValue).toArray());
    }

    /** For each spaced index, the original timestep it stands for (ascending). */
    public int[] timestepMap() {
        return timestepMap.clone();
    }

    /** Number of steps of the original process. */
    public int originalNumSteps() {
        return originalNumSteps;
    }

    @Override
    protected NDArray modelTimesteps(NDArray t) {
        long[] idx = HostArrays.timesteps(t);
        long[] mapped = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            mapped[i] = timestepMap[Math.toIntExact(idx[i])];
        }
        return HostArrays.ownedLongs(t.getManager(), mapped, new Shape(idx.length), t.getDataType());
    }

    @Override
    public String toString() {
        return "SpacedDiffusion[" + numTimesteps() + " of " + originalNumSteps + " steps, " + modelMeanType() + ", "
                + modelVarType() + ", " + lossType() + ", first steps "
                + Arrays.toString(Arrays.copyOf(timestepMap, Math.min(5, timestepMap.length))) + "]";
    }
}
