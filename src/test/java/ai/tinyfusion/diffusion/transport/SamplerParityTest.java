package ai.tinyfusion.diffusion.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.diffusion.NoiseSource;
import com.google.gson.JsonObject;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The ODE (torchdiffeq euler / heun2 / dopri5) and SDE (Euler–Maruyama / Heun, every diffusion form and last step)
 * samplers against the original code on SiT's network built from the reference DiT, from the same noise.
 */
class SamplerParityTest extends SiTFixture {
    private static final long[] LABELS = {3, 7};
    /**
     * Fixed-step parity: 1e-4 absolute where the samples are O(1); noise and score models of a random network
     * drive some samples to |x| ~ 10³ (their drift divides by σ_t ≈ 1e-3 near the end), where float32 itself
     * spacing is 1e-4, so the bound scales with the largest |x| there.
     */
    private static final double PARITY = 1e-4;

    /** A sample and the network evaluations it took. */
    private record Counted(NDArray x, int nfe) {}

    @FunctionalInterface
    private interface CountingSampler {
        Counted run(NDManager m, NDArray init, TransportNet net, NDArray y);
    }

    /** The outcome of one fixture case: evaluations, max abs error, the largest |x| and the error bound. */
    private record Outcome(int nfe, double err, double scale, double bound) {}

    /** Runs fixture case {@code name} through SiT's sample.py plumbing (CFG doubling when the case has a scale). */
    private static Outcome runCase(NDManager s, String name, CountingSampler sampler) {
        int[] nfe = {0};
        TransportSampler counting = (mm, init, net, y) -> {
            Counted r = sampler.run(mm, init, net, y);
            nfe[0] = r.nfe();
            return r.x();
        };
        NDArray out = SiTNetwork.sample(counting, s, dit, io.get("z"), LABELS, cfg(spec(name)));
        NDArray expected = io.get(name + "_out");
        double scale = maxMagnitude(expected);
        return new Outcome(nfe[0], maxAbs(expected, out), scale, PARITY * Math.max(1, scale));
    }

    private static double cfg(JsonObject c) {
        return c.get("cfg").getAsDouble();
    }

    @Test
    void fixedStepOdeSamplersMatch() {
        for (int i = 0; i < 13; i++) {
            String name = "ode" + i;
            JsonObject c = spec(name);
            OdeSampler sampler = new OdeSampler(
                    transportOf(c),
                    OdeIntegrator.parse(str(c, "method")),
                    c.get("num_steps").getAsInt(),
                    1e-6,
                    1e-3);
            try (NDManager s = m.newSubManager()) {
                Outcome o = runCase(s, name, (mm, init, net, y) -> {
                    OdeIntegrator.Result r = sampler.run(mm, init, net, y);
                    return new Counted(r.x(), r.nfe());
                });
                System.out.printf(
                        Locale.ROOT,
                        "ODE %-6s %-6s %-8s steps %d cfg %.1f: NFE %d, max abs %.2e (|x| ≤ %.2f)%n",
                        str(c, "method"),
                        str(c, "path"),
                        str(c, "prediction"),
                        c.get("num_steps").getAsInt() - 1,
                        cfg(c),
                        o.nfe(),
                        o.err(),
                        o.scale());
                assertTrue(o.err() <= o.bound(), name + " " + c + ": max abs " + o.err());
                assertEquals(c.get("nfe").getAsInt(), o.nfe(), name + " NFE");
            }
        }
    }

    @Test
    void dopri5MatchesTorchdiffeqStepForStep() {
        for (int i = 0; i < 3; i++) {
            String name = "dopri" + i;
            JsonObject c = spec(name);
            Transport tr = transportOf(c);
            OdeSampler sampler = new OdeSampler(
                    tr,
                    OdeIntegrator.DOPRI5,
                    c.get("num_steps").getAsInt(),
                    c.get("atol").getAsDouble(),
                    c.get("rtol").getAsDouble());
            try (NDManager s = m.newSubManager()) {
                OdeIntegrator.Result[] r = new OdeIntegrator.Result[1];
                TransportSampler recording = (mm, init, net, y) -> {
                    r[0] = sampler.run(mm, init, net, y);
                    return r[0].x();
                };
                NDArray out = SiTNetwork.sample(recording, s, dit, io.get("z"), LABELS, cfg(c));
                double err = maxAbs(io.get(name + "_out"), out);
                String heun = "";
                if (io.containsKey(name + "heun2000_out")) {
                    NDArray ref = io.get(name + "heun2000_out");
                    double vsHeun = maxAbs(ref, out);
                    double torchVsHeun = maxAbs(ref, io.get(name + "_out"));
                    double scale = maxMagnitude(ref);
                    heun = String.format(
                            Locale.ROOT,
                            "; vs Heun-2000: max abs %.2e (torchdiffeq %.2e, |x| ≤ %.2f)",
                            vsHeun,
                            torchVsHeun,
                            scale);
                    // the converged solution within the relative tolerance of the largest |x|
                    assertTrue(
                            vsHeun
                                    <= c.get("atol").getAsDouble()
                                            + c.get("rtol").getAsDouble() * scale,
                            name + " vs Heun-2000 " + vsHeun);
                }
                System.out.printf(
                        Locale.ROOT,
                        "ODE dopri5 %-6s %-8s cfg %.1f: NFE %d (torchdiffeq %d), accepted %d/%d,"
                                + " rejected %d/%d, vs torchdiffeq max abs %.2e%s%n",
                        str(c, "path"),
                        str(c, "prediction"),
                        cfg(c),
                        r[0].nfe(),
                        c.get("nfe").getAsInt(),
                        r[0].accepted(),
                        c.get("accepted").getAsInt(),
                        r[0].rejected(),
                        c.get("rejected").getAsInt(),
                        err,
                        heun);
                assertEquals(c.get("nfe").getAsInt(), r[0].nfe(), name + " NFE");
                assertEquals(c.get("accepted").getAsInt(), r[0].accepted(), name + " accepted steps");
                assertEquals(c.get("rejected").getAsInt(), r[0].rejected(), name + " rejected steps");
                // adaptive steps carry float32 rounding further than fixed ones: 1e-5 relative
                assertTrue(err <= 1e-5 * Math.max(1, maxMagnitude(io.get(name + "_out"))), name + ": max abs " + err);
            }
        }
    }

    /** Replays the original's recorded draws, one (steps, N, C, H, W) slice per call. */
    private static NoiseSource replay(NDArray recorded) {
        int[] next = {0};
        return (manager, shape, dtype) -> {
            NDArray w = recorded.get(next[0]++);
            assertEquals(shape, w.getShape());
            return w.duplicate().toType(dtype, false);
        };
    }

    private static SdeSampler sdeOf(JsonObject c, NoiseSource noise) {
        return new SdeSampler(
                transportOf(c),
                SdeSampler.Method.parse(str(c, "method")),
                DiffusionForm.parse(str(c, "form")),
                c.get("norm").getAsDouble(),
                LastStep.parse(str(c, "last_step")),
                c.get("last_step_size").getAsDouble(),
                c.get("num_steps").getAsInt(),
                noise);
    }

    @Test
    void sdeSamplersMatchWithTheOriginalsNoise() {
        for (int i = 0; i < 15; i++) {
            String name = "sde" + i;
            JsonObject c = spec(name);
            NDArray noise = io.get(name + "_noise");
            assertEquals(c.get("num_steps").getAsInt() - 1, noise.getShape().get(0), name + " draws");
            SdeSampler sampler = sdeOf(c, replay(noise));
            try (NDManager s = m.newSubManager()) {
                Outcome o = runCase(s, name, (mm, init, net, y) -> {
                    SdeSampler.Result r = sampler.run(mm, init, net, y);
                    return new Counted(r.x(), r.nfe());
                });
                double err = o.err();
                System.out.printf(
                        Locale.ROOT,
                        "SDE %-5s %-6s %-8s %-22s norm %.1f last %-7s %.2f steps %d cfg %.1f:"
                                + " NFE %d (original %d), max abs %.2e (|x| ≤ %.2f)%n",
                        str(c, "method"),
                        str(c, "path"),
                        str(c, "prediction"),
                        str(c, "form"),
                        c.get("norm").getAsDouble(),
                        str(c, "last_step"),
                        c.get("last_step_size").getAsDouble(),
                        c.get("num_steps").getAsInt() - 1,
                        cfg(c),
                        o.nfe(),
                        c.get("nfe").getAsInt(),
                        err,
                        o.scale());
                assertTrue(err <= o.bound(), name + " " + c + ": max abs " + err);
                // one network call per SDE drift here; the original makes two (drift and score separately)
                int steps = c.get("num_steps").getAsInt() - 1;
                int drifts = steps * (str(c, "method").equals("Heun") ? 2 : 1);
                LastStep last = LastStep.parse(str(c, "last_step"));
                assertEquals(drifts + (last == LastStep.NONE ? 0 : 1), o.nfe(), name + " network calls");
                assertEquals(
                        c.get("nfe").getAsInt(),
                        o.nfe() + drifts + (last == LastStep.MEAN ? 1 : 0),
                        name + " the original's network calls");
            }
        }
    }

    @Test
    void sdeDrawsFromTheSeededEngineAsTorch() {
        String name = "sde13"; // with CFG, so the draws have the doubled batch's shape
        JsonObject c = spec(name);
        SdeSampler sampler = sdeOf(c, NoiseSource.standardNormal());
        try (NDManager s = m.newSubManager()) {
            Engine.getInstance().setRandomSeed(c.get("seed").getAsInt());
            NDArray out = SiTNetwork.sample(sampler, s, dit, io.get("z"), LABELS, cfg(c));
            double err = maxAbs(io.get(name + "_out"), out);
            assertTrue(err <= 1e-4, name + " seeded: max abs " + err);
            Engine.getInstance().setRandomSeed(c.get("seed").getAsInt());
            NDArray first =
                    s.randomNormal(0f, 1f, io.get(name + "_noise").get(0).getShape(), DataType.FLOAT32);
            assertEquals(0.0, maxAbs(io.get(name + "_noise").get(0), first), name + " first draw");
        }
    }

    @Test
    void samplersRejectDegenerateGrids() {
        Transport tr = Transport.create("Linear", "velocity", null);
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> new OdeSampler(tr, OdeIntegrator.HEUN, 1, 1e-6, 1e-3));
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> DiffusionForm.parse("quadratic"));
        assertEquals(DiffusionForm.INCREASING_DECREASING, DiffusionForm.parse("inccreasing-decreasing"));
    }
}
