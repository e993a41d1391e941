package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.nn.Scalars;
import java.util.Locale;

/**
 * The ODE solvers SiT reaches through {@code torchdiffeq.odeint}, computed as torchdiffeq computes them for a
 * float32 state: the fixed-grid methods {@code euler} and {@code heun2} step from grid point to grid point; the
 * adaptive {@code dopri5} (Dormand–Prince 5(4), FSAL, Hairer's initial step, the I-controller with safety 0.9 and
 * factors in [0.2, 10], 4th-order dense output) takes its own steps in float64 time and evaluates its interpolant
 * at the last grid point. Only the final state is returned (SiT keeps {@code [-1]}).
 */
public enum OdeIntegrator {
    EULER("euler"),
    HEUN("heun2"),
    DOPRI5("dopri5");

    /** The final state and what it cost: function evaluations, and for dopri5 its accepted and rejected steps. */
    public record Result(NDArray x, int nfe, int accepted, int rejected) {}

    private final String methodName;

    OdeIntegrator(String methodName) {
        this.methodName = methodName;
    }

    /** torchdiffeq's method name. */
    public String methodName() {
        return methodName;
    }

    /** torchdiffeq's names; "heun" is accepted for heun2. */
    public static OdeIntegrator parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.equals("heun") ? HEUN : Names.parse(values(), OdeIntegrator::methodName, n, "ODE method");
    }

    /**
     * Integrates from {@code grid[0]} to the last grid point. {@code atol}/{@code rtol} are used by dopri5 only.
     * {@code x0} is left open; the result belongs to {@code m}.
     */
    public Result integrate(NDManager m, OdeFunction f, NDArray x0, float[] grid, double atol, double rtol) {
        int[] nfe = {0};
        OdeFunction counted = (t, x) -> {
            nfe[0]++;
            return f.apply(t, x);
        };
        if (this == DOPRI5) {
            return new Dopri5(m, counted, atol, rtol).solve(x0, grid, nfe);
        }
        NDArray y = x0.duplicate();
        y.attach(m);
        for (int i = 0; i + 1 < grid.length; i++) {
            try (NDManager s = m.newSubManager()) {
                y.attach(s);
                float t0 = grid[i];
                float dt = grid[i + 1] - t0;
                NDArray dtA = Scalars.of(s, dt, DataType.FLOAT32);
                NDArray k1 = counted.apply(t0, y);
                NDArray dy;
                if (this == EULER) {
                    dy = k1.mul(dtA);
                } else {
                    NDArray k2 = counted.apply(t0 + dt, y.add(k1.mul(dtA)));
                    dy = Scalars.mul(k1, 0.5).add(Scalars.mul(k2, 0.5)).mul(dtA);
                }
                y = y.add(dy);
                y.attach(m);
            }
        }
        return new Result(y, nfe[0], grid.length - 1, 0);
    }

    /** torchdiffeq's RKAdaptiveStepsizeODESolver with the Dormand–Prince–Shampine tableau. */
    private static final class Dopri5 {
        private static final double[] ALPHA = {1 / 5.0, 3 / 10.0, 4 / 5.0, 8 / 9.0, 1.0, 1.0};
        private static final double[][] BETA = {
            {1 / 5.0},
            {3 / 40.0, 9 / 40.0},
            {44 / 45.0, -56 / 15.0, 32 / 9.0},
            {19372 / 6561.0, -25360 / 2187.0, 64448 / 6561.0, -212 / 729.0},
            {9017 / 3168.0, -355 / 33.0, 46732 / 5247.0, 49 / 176.0, -5103 / 18656.0},
            {35 / 384.0, 0, 500 / 1113.0, 125 / 192.0, -2187 / 6784.0, 11 / 84.0},
        };
        private static final double[] C_ERROR = {
            35 / 384.0 - 1951 / 21600.0,
            0,
            500 / 1113.0 - 22642 / 50085.0,
            125 / 192.0 - 451 / 720.0,
            -2187 / 6784.0 + 12231 / 42400.0,
            11 / 84.0 - 649 / 6300.0,
            -1 / 60.0,
        };
        private static final double[] MID = {
            6025192743.0 / 30085553152.0 / 2,
            0,
            51252292925.0 / 65400821598.0 / 2,
            -2691868925.0 / 45128329728.0 / 2,
            187940372067.0 / 1594534317056.0 / 2,
            -1776094331.0 / 19743644256.0 / 2,
            11237099.0 / 235043384.0 / 2,
        };
        private static final int ORDER = 5;
        private static final double SAFETY = 0.9;
        private static final double IFACTOR = 10;
        private static final double DFACTOR = 0.2;

        private final NDManager m;
        private final OdeFunction f;
        private final double atol;
        private final double rtol;

        // The solver state (torchdiffeq's _RungeKuttaState): arrays owned by m between steps.
        private NDArray y;
        private NDArray fy;
        private double tStart; // start of the last attempted step
        private double t; // end of the last accepted step
        private double dt; // size of the next attempt
        private NDArray[] interp; // [e, d, c, b, a] of the last accepted step

        Dopri5(NDManager m, OdeFunction f, double atol, double rtol) {
            this.m = m;
            this.f = f;
            this.atol = atol;
            this.rtol = rtol;
        }

        Result solve(NDArray x0, float[] grid, int[] nfe) {
            double tEnd = grid[grid.length - 1];
            int accepted = 0;
            int rejected = 0;
            try (NDManager s = m.newSubManager()) {
                x0.tempAttach(s);
                t = grid[0];
                tStart = t;
                y = x0.duplicate();
                fy = f.apply((float) t, y);
                dt = initialStep(y, fy);
                interp = new NDArray[] {y, y, y, y, y};
                keep(y, fy);
            }
            if (grid.length == 1) {
                return new Result(y, nfe[0], 0, 0);
            }
            while (tEnd > t) {
                if (step()) {
                    accepted++;
                } else {
                    rejected++;
                }
            }
            NDArray out;
            try (NDManager s = m.newSubManager()) {
                out = evaluate(s, tEnd);
                out.attach(m);
            }
            return new Result(out, nfe[0], accepted, rejected);
        }

        private void keep(NDArray... arrays) {
            for (NDArray a : arrays) {
                a.attach(m);
            }
            for (NDArray a : interp) {
                a.attach(m);
            }
        }

        /** Hairer, Nørsett & Wanner's starting step, as torchdiffeq's {@code _select_initial_step} (order 4). */
        private double initialStep(NDArray y0, NDArray f0) {
            NDArray scale = y0.abs().toType(DataType.FLOAT64, false).mul(rtol).add(atol);
            double d0 = rms(y0.toType(DataType.FLOAT64, false).div(scale));
            double d1 = rms(f0.toType(DataType.FLOAT64, false).div(scale));
            double h0 = d0 < 1e-5 || d1 < 1e-5 ? (float) 1e-6 : 0.01 * d0 / d1;
            h0 = Math.abs(h0);
            NDArray y1 = y0.add(f0.mul(Scalars.of(f0, (float) h0)));
            NDArray f1 = f.apply((float) (t + h0), y1);
            double d2 = Math.abs(rms(f1.sub(f0).toType(DataType.FLOAT64, false).div(scale)) / h0);
            double h1 = d1 <= 1e-15 && d2 <= 1e-15
                    ? Math.max((float) 1e-6, h0 * 1e-3)
                    : Math.pow(0.01 / Math.max(d1, d2), 1.0 / ORDER); // order − 1 is passed, 1/(order − 1 + 1)
            return Math.min(100 * h0, Math.abs(h1));
        }

        private static double rms(NDArray a) {
            return a.square().mean().sqrt().getDouble();
        }

        /** One attempt; true when accepted. */
        private boolean step() {
            try (NDManager s = m.newSubManager()) {
                y.attach(s);
                fy.attach(s);
                for (NDArray a : interp) {
                    a.attach(s);
                }
                if (!Double.isFinite(dt)) {
                    dt = 0;
                }
                double t0 = t;
                double t1 = t0 + dt;
                float t0f = (float) t0;
                float dtf = (float) dt;
                float t1f = (float) t1;
                NDArray[] k = new NDArray[ALPHA.length + 1];
                k[0] = fy;
                NDArray yi = null;
                for (int i = 0; i < ALPHA.length; i++) {
                    float ti = ALPHA[i] == 1.0 ? Math.nextDown(t1f) : t0f + (float) ALPHA[i] * dtf;
                    yi = y.add(combine(k, BETA[i], dtf, i + 1));
                    k[i + 1] = f.apply(ti, yi);
                }
                NDArray y1 = yi;
                NDArray f1 = k[ALPHA.length];
                NDArray error = combine(k, C_ERROR, dtf, k.length);
                NDArray tol = y.abs()
                        .maximum(y1.abs())
                        .toType(DataType.FLOAT64, false)
                        .mul(rtol)
                        .add(atol);
                double ratio = rms(error.toType(DataType.FLOAT64, false).div(tol));
                boolean accept = ratio <= 1;
                tStart = t0;
                if (accept) {
                    interp = fit(y, y1, k, dtf);
                    y = y1;
                    fy = f1;
                    t = t1;
                }
                dt = nextStep(dt, ratio);
                keep(y, fy);
                return accept;
            }
        }

        /** Σ_j k_j · (c_j · dt) over the first {@code count} stages, in float32. */
        private static NDArray combine(NDArray[] k, double[] c, float dt, int count) {
            NDArray acc = null;
            for (int j = 0; j < count; j++) {
                NDArray term = k[j].mul(Scalars.of(k[j], (float) c[j] * dt));
                acc = acc == null ? term : acc.add(term);
            }
            return acc;
        }

        /** torchdiffeq's {@code _optimal_step_size}. */
        private static double nextStep(double last, double ratio) {
            if (ratio == 0) {
                return last * IFACTOR;
            }
            double dfactor = ratio < 1 ? 1 : DFACTOR;
            double factor = Math.min(IFACTOR, Math.max(SAFETY / Math.pow(ratio, 1.0 / ORDER), dfactor));
            return last * factor;
        }

        /** The quartic through y0, y1, the midpoint estimate and both end slopes: [e, d, c, b, a]. */
        private static NDArray[] fit(NDArray y0, NDArray y1, NDArray[] k, float dt) {
            NDArray yMid = y0.add(combine(k, MID, dt, k.length));
            NDArray f0 = k[0];
            NDArray f1 = k[k.length - 1];
            NDArray dtA = Scalars.of(y0, dt);
            NDArray a = f1.sub(f0)
                    .mul(Scalars.of(y0, 2 * dt))
                    .sub(Scalars.mul(y1.add(y0), 8))
                    .add(Scalars.mul(yMid, 16));
            NDArray b = Scalars.mul(f0, 5)
                    .sub(Scalars.mul(f1, 3))
                    .mul(dtA)
                    .add(Scalars.mul(y0, 18))
                    .add(Scalars.mul(y1, 14))
                    .sub(Scalars.mul(yMid, 32));
            NDArray c = f1.sub(Scalars.mul(f0, 4))
                    .mul(dtA)
                    .sub(Scalars.mul(y0, 11))
                    .sub(Scalars.mul(y1, 5))
                    .add(Scalars.mul(yMid, 16));
            NDArray d = f0.mul(dtA);
            return new NDArray[] {y0, d, c, b, a};
        }

        /** The last accepted step's interpolant at {@code at} (tStart ≤ at ≤ t). */
        private NDArray evaluate(NDManager s, double at) {
            for (NDArray a : interp) {
                a.tempAttach(s);
            }
            float x = (float) ((at - tStart) / (t - tStart));
            NDArray total = interp[0].add(interp[1].mul(Scalars.of(interp[1], x)));
            float power = x;
            for (int i = 2; i < interp.length; i++) {
                power = power * x;
                total = total.add(interp[i].mul(Scalars.of(interp[i], power)));
            }
            return total;
        }
    }
}
