package ai.tinyfusion.diffusion.transport;

/** The interpolant x_t = α_t·x1 + σ_t·x0 (SiT's {@code --path-type}). */
public enum PathType {
    /** α = t, σ = 1 − t (SiT's ICPlan). */
    LINEAR("Linear"),
    /** α = sin(πt/2), σ = cos(πt/2) (GVPCPlan). */
    GVP("GVP"),
    /** The variance-preserving path of score SDEs with β from σmin = 0.1 to σmax = 20 (VPCPlan). */
    VP("VP");

    private final String cliName;

    PathType(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The plan with SiT's default constants. */
    public CouplingPlan plan() {
        return switch (this) {
            case LINEAR -> new CouplingPlan.Linear();
            case GVP -> new CouplingPlan.Gvp();
            case VP -> new CouplingPlan.Vp(0.1, 20.0);
        };
    }

    /** SiT's names, case-sensitive as its argument parser: Linear, GVP, VP. */
    public static PathType parse(String name) {
        return Names.parse(values(), PathType::cliName, name, "path type");
    }
}
