package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * SiT's {@code Sampler.sample_ode}: the probability-flow ODE dx/dt = drift(x, t) over
 * {@code linspace(t0, t1, numSteps)} of the transport's ODE interval. Fixed-grid methods take numSteps − 1 steps;
 * for dopri5 the grid only places output points and the solver chooses its own steps.
 */
public record OdeSampler(Transport transport, OdeIntegrator method, int numSteps, double atol, double rtol)
        implements TransportSampler {

    public OdeSampler {
        if (numSteps < 2) {
            throw new IllegalArgumentException("an ODE grid needs at least 2 points, got " + numSteps);
        }
    }

    /** SiT's sample.py ODE defaults. */
    public static final String DEFAULT_METHOD = "dopri5";

    public static final double DEFAULT_ATOL = 1e-6;
    public static final double DEFAULT_RTOL = 1e-3;
    public static final int DEFAULT_STEPS = 250;

    /** SiT's sampling CLI: dopri5, atol 1e-6, rtol 1e-3, 250 grid points. */
    public static OdeSampler cliDefaults(Transport transport) {
        return new OdeSampler(
                transport, OdeIntegrator.parse(DEFAULT_METHOD), DEFAULT_STEPS, DEFAULT_ATOL, DEFAULT_RTOL);
    }

    public float[] grid() {
        Transport.Interval iv = transport.odeInterval();
        return TimeGrid.linspace(iv.t0(), iv.t1(), numSteps);
    }

    /** The final state with the evaluation counts. */
    public OdeIntegrator.Result run(NDManager m, NDArray init, TransportNet net, NDArray y) {
        TransportNet drift = transport.drift(net);
        OdeFunction f = (t, x) ->
                drift.apply(x, x.getManager().full(new Shape(x.getShape().get(0)), t), y);
        return method.integrate(m, f, init, grid(), atol, rtol);
    }

    @Override
    public NDArray sample(NDManager m, NDArray init, TransportNet net, NDArray y) {
        return run(m, init, net, y).x();
    }
}
