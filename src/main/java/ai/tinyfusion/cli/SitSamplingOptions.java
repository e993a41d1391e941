package ai.tinyfusion.cli;

import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.diffusion.transport.DiffusionForm;
import ai.tinyfusion.diffusion.transport.LastStep;
import ai.tinyfusion.diffusion.transport.OdeIntegrator;
import ai.tinyfusion.diffusion.transport.OdeSampler;
import ai.tinyfusion.diffusion.transport.SdeSampler;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * SiT's sampler options of {@code sample} (its sample.py ODE / SDE modes). Unset options take the library's defaults,
 * which are SiT's ({@link OdeSampler#cliDefaults}, {@link SdeSampler#cliDefaults}).
 */
public final class SitSamplingOptions {
    @Option(
            names = "--sampler",
            description = "SiT objective: ode (probability flow) or sde (SiT's sample.py modes; default "
                    + TransportObjective.DEFAULT_SAMPLER + ").")
    String sampler;

    @Option(
            names = "--sampling-method",
            description = "SiT: the integrator; ODE euler, heun2 or dopri5 (default " + OdeSampler.DEFAULT_METHOD
                    + "), SDE Euler or Heun (default " + SdeSampler.DEFAULT_METHOD + ").")
    String samplingMethod;

    @Option(
            names = "--atol",
            description = "SiT ODE dopri5: absolute tolerance (default " + OdeSampler.DEFAULT_ATOL + ").")
    Double atol;

    @Option(
            names = "--rtol",
            description = "SiT ODE dopri5: relative tolerance (default " + OdeSampler.DEFAULT_RTOL + ").")
    Double rtol;

    @Option(
            names = "--diffusion-form",
            description = "SiT SDE: the diffusion coefficient's form, constant, SBDM, sigma, linear, decreasing or "
                    + "increasing-decreasing (default " + SdeSampler.DEFAULT_FORM + ").")
    String diffusionForm;

    @Option(
            names = "--diffusion-norm",
            description = "SiT SDE: the diffusion coefficient's scale (default " + SdeSampler.DEFAULT_NORM + ").")
    Double diffusionNorm;

    @Option(
            names = "--last-step",
            description = "SiT SDE: the final noise-free step, None, Mean, Tweedie or Euler (default "
                    + SdeSampler.DEFAULT_LAST_STEP + ").")
    String lastStep;

    @Option(
            names = "--last-step-size",
            description = "SiT SDE: size of the last step (default " + SdeSampler.DEFAULT_LAST_STEP_SIZE + ").")
    Double lastStepSize;

    /** Whether any SiT sampling option was given. */
    boolean given() {
        return sampler != null
                || samplingMethod != null
                || atol != null
                || rtol != null
                || diffusionForm != null
                || diffusionNorm != null
                || lastStep != null
                || lastStepSize != null;
    }

    /** SiT's number of sampling steps unless given (250). */
    static int defaultSteps(TransportObjective objective) {
        return OdeSampler.cliDefaults(objective.transport()).numSteps();
    }

    /** The sampling method for {@code objective} with {@code steps} grid points (null: SiT's) and guidance. */
    Sampler.Method method(TransportObjective objective, Integer steps, double cfg) {
        String mode = (sampler == null ? TransportObjective.DEFAULT_SAMPLER : sampler).toLowerCase(Locale.ROOT);
        int n = steps != null ? steps : defaultSteps(objective);
        switch (mode) {
            case "ode" -> {
                if (diffusionForm != null || diffusionNorm != null || lastStep != null || lastStepSize != null) {
                    throw new IllegalArgumentException(
                            "--diffusion-form, --diffusion-norm, --last-step and --last-step-size are --sampler sde "
                                    + "options");
                }
                OdeSampler d = OdeSampler.cliDefaults(objective.transport());
                OdeSampler s = new OdeSampler(
                        objective.transport(),
                        samplingMethod == null ? d.method() : OdeIntegrator.parse(samplingMethod),
                        n,
                        atol == null ? d.atol() : atol,
                        rtol == null ? d.rtol() : rtol);
                String tolerances = s.method() == OdeIntegrator.DOPRI5
                        ? String.format(Locale.ROOT, ", atol %.3g, rtol %.3g", s.atol(), s.rtol())
                        : "";
                return objective.sampling(
                        s,
                        cfg,
                        String.format(
                                Locale.ROOT,
                                "ode %s, %d points%s, cfg %.2f",
                                s.method().methodName(),
                                n,
                                tolerances,
                                cfg));
            }
            case "sde" -> {
                if (atol != null || rtol != null) {
                    throw new IllegalArgumentException("--atol and --rtol are --sampler ode options");
                }
                SdeSampler d = SdeSampler.cliDefaults(objective.transport());
                SdeSampler s = new SdeSampler(
                        objective.transport(),
                        samplingMethod == null ? d.method() : SdeSampler.Method.parse(samplingMethod),
                        diffusionForm == null ? d.form() : DiffusionForm.parse(diffusionForm),
                        diffusionNorm == null ? d.diffusionNorm() : diffusionNorm,
                        lastStep == null ? d.lastStep() : LastStep.parse(lastStep),
                        lastStepSize == null ? d.lastStepSize() : lastStepSize,
                        n,
                        d.noise());
                return objective.sampling(
                        s,
                        cfg,
                        String.format(
                                Locale.ROOT,
                                "sde %s, %s form x %.3g, last step %s %.3g, %d points, cfg %.2f",
                                s.method().name().toLowerCase(Locale.ROOT),
                                s.form().cliName(),
                                s.diffusionNorm(),
                                s.lastStep().name().toLowerCase(Locale.ROOT),
                                s.lastStepSize(),
                                n,
                                cfg));
            }
            default -> throw new IllegalArgumentException("unknown --sampler '" + sampler + "' (ode, sde)");
        }
    }
}
