"""Offline generator of the expected numbers embedded in the diffusion tests (numpy only, no torch).

An independent numpy re-derivation of the DDPM / improved-DDPM formulas as DiT's diffusion package evaluates them:
schedules in float64; tensor work in float32 with schedule values gathered per timestep and rounded to float32, so
the arithmetic matches what libtorch does in float32. Run: python3 make_reference_values.py
"""
import math

import numpy as np

F32 = np.float32
LN2 = math.log(2.0)


# ---------------------------------------------------------------- schedules (float64)
def named_betas(name, steps):
    if name == "linear":
        s = 1000 / steps
        return np.linspace(s * 0.0001, s * 0.02, steps, dtype=np.float64)
    if name == "squaredcos_cap_v2":
        def abar(u):
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - abar((i + 1) / steps) / abar(i / steps), 0.999) for i in range(steps)])
    raise ValueError(name)


def space(steps, spec):
    if spec.startswith("ddim"):
        want = int(spec[4:])
        for stride in range(1, steps):
            if len(range(0, steps, stride)) == want:
                return sorted(range(0, steps, stride))
        raise ValueError(spec)
    counts = [int(c) for c in spec.split(",")]
    per, extra = divmod(steps, len(counts))
    start, kept = 0, set()
    for i, c in enumerate(counts):
        size = per + (1 if i < extra else 0)
        stride = 1 if c <= 1 else (size - 1) / (c - 1)
        pos = 0.0
        for _ in range(c):
            kept.add(start + round(pos))
            pos += stride
        start += size
    return sorted(kept)


class Schedule:
    def __init__(self, betas):
        b = np.asarray(betas, dtype=np.float64)
        self.betas = b
        self.T = len(b)
        ac = np.cumprod(1.0 - b)
        self.ac = ac
        self.ac_prev = np.append(1.0, ac[:-1])
        self.ac_next = np.append(ac[1:], 0.0)
        self.sqrt_ac = np.sqrt(ac)
        self.sqrt_1m_ac = np.sqrt(1.0 - ac)
        self.log_1m_ac = np.log(1.0 - ac)
        self.sqrt_recip = np.sqrt(1.0 / ac)
        self.sqrt_recipm1 = np.sqrt(1.0 / ac - 1)
        self.post_var = b * (1.0 - self.ac_prev) / (1.0 - ac)
        self.post_logvar = np.log(np.append(self.post_var[1], self.post_var[1:]))
        self.coef1 = b * np.sqrt(self.ac_prev) / (1.0 - ac)
        self.coef2 = (1.0 - self.ac_prev) * np.sqrt(1.0 - b) / (1.0 - ac)
        self.large_var = np.append(self.post_var[1], b[1:])


def spaced_schedule(base_betas, kept):
    base = Schedule(base_betas)
    last, nb = 1.0, []
    for i in kept:
        nb.append(1 - base.ac[i] / last)
        last = base.ac[i]
    return Schedule(np.array(nb))


# ---------------------------------------------------------------- float32 tensor math
def g(arr, t):
    return arr[np.asarray(t)].astype(F32).reshape(-1, 1, 1, 1)


def mean_flat(a):
    return a.reshape(a.shape[0], -1).mean(axis=1, dtype=F32)


def normal_kl(m1, lv1, m2, lv2):
    return F32(0.5) * (lv2 - F32(1.0) - lv1 + np.exp(lv1 - lv2) + (m1 - m2) ** 2 * np.exp(-lv2))


def cdf(x):
    dt = x.dtype.type
    c = dt(math.sqrt(2.0 / math.pi))
    return dt(0.5) * (dt(1.0) + np.tanh(c * (x + dt(0.044715) * (x * x * x))))


def dgll(x, means, log_scales):
    dt = x.dtype.type
    centered = x - means
    inv = np.exp(-log_scales)
    cp = cdf(inv * (centered + dt(1.0 / 255.0)))
    cm = cdf(inv * (centered - dt(1.0 / 255.0)))
    floor = dt(1e-12)
    lcp = np.log(np.maximum(cp, floor))
    l1m = np.log(np.maximum(dt(1.0) - cm, floor))
    ld = np.log(np.maximum(cp - cm, floor))
    return np.where(x < dt(-0.999), lcp, np.where(x > dt(0.999), l1m, ld))


class Process:
    def __init__(self, sched, kept, mean_type, var_type, loss_type):
        self.s, self.kept = sched, np.array(kept)
        self.mean_type, self.var_type, self.loss_type = mean_type, var_type, loss_type

    def model_t(self, t):
        return self.kept[np.asarray(t)]

    def posterior(self, x0, xt, t):
        s = self.s
        return g(s.coef1, t) * x0 + g(s.coef2, t) * xt, g(s.post_logvar, t) + np.zeros_like(xt)

    def xstart_from_eps(self, xt, t, eps):
        return g(self.s.sqrt_recip, t) * xt - g(self.s.sqrt_recipm1, t) * eps

    def eps_from_xstart(self, xt, t, x0):
        return (g(self.s.sqrt_recip, t) * xt - x0) / g(self.s.sqrt_recipm1, t)

    def from_output(self, out, x, t, clip, denoised=None):
        s, C = self.s, x.shape[1]
        if self.var_type == "learned_range":
            mo, vv = out[:, :C], out[:, C:]
            frac = (vv + F32(1)) / F32(2)
            logvar = frac * g(np.log(s.betas), t) + (F32(1) - frac) * g(s.post_logvar, t)
        else:
            mo = out
            arr = s.large_var if self.var_type == "fixed_large" else s.post_var
            logarr = np.log(arr) if self.var_type == "fixed_large" else s.post_logvar
            logvar = g(logarr, t) + np.zeros_like(x)
        x0 = mo if self.mean_type == "start_x" else self.xstart_from_eps(x, t, mo)
        if denoised is not None:
            x0 = denoised(x0)
        if clip:
            x0 = np.clip(x0, F32(-1), F32(1))
        mean, _ = self.posterior(x0, x, t)
        return mean, logvar, x0

    def pmv(self, model, x, t, y, clip, denoised=None):
        return self.from_output(model(x, self.model_t(t), y), x, t, clip, denoised)

    def q_sample(self, x0, t, noise):
        return g(self.s.sqrt_ac, t) * x0 + g(self.s.sqrt_1m_ac, t) * noise

    def vb_from_output(self, out, x0, xt, t, clip=False):
        tm, tlv = self.posterior(x0, xt, t)
        mean, logvar, x0p = self.from_output(out, xt, t, clip)
        kl = mean_flat(normal_kl(tm, tlv, mean, logvar)) / F32(LN2)
        nll = mean_flat(-dgll(x0, mean, F32(0.5) * logvar)) / F32(LN2)
        return np.where(np.asarray(t) == 0, nll, kl), x0p

    def training_losses(self, model, x0, t, y, noise):
        xt = self.q_sample(x0, t, noise)
        out = model(xt, self.model_t(t), y)
        if self.loss_type in ("kl", "rescaled_kl"):
            loss = self.vb_from_output(out, x0, xt, t)[0]
            if self.loss_type == "rescaled_kl":
                loss = loss * F32(self.s.T)
            return {"loss": loss}
        C = x0.shape[1]
        terms = {}
        if self.var_type == "learned_range":
            mo = out[:, :C]
            vb = self.vb_from_output(out, x0, xt, t)[0]
            if self.loss_type == "rescaled_mse":
                vb = vb * F32(self.s.T / 1000.0)
            terms["vb"] = vb
        else:
            mo = out
        target = x0 if self.mean_type == "start_x" else noise
        terms["mse"] = mean_flat((target - mo) ** 2)
        terms["loss"] = terms["mse"] + terms["vb"] if "vb" in terms else terms["mse"]
        return terms

    def p_sample(self, model, x, t, y, clip, noise):
        mean, logvar, x0 = self.pmv(model, x, t, y, clip)
        mask = (np.asarray(t) != 0).astype(F32).reshape(-1, 1, 1, 1)
        return mean + mask * np.exp(F32(0.5) * logvar) * noise

    def ddim_sample(self, model, x, t, y, clip, eta, noise):
        s = self.s
        mean, logvar, x0 = self.pmv(model, x, t, y, clip)
        eps = self.eps_from_xstart(x, t, x0)
        ab, abp = g(s.ac, t), g(s.ac_prev, t)
        sigma = F32(eta) * np.sqrt((F32(1) - abp) / (F32(1) - ab)) * np.sqrt(F32(1) - ab / abp)
        mp = x0 * np.sqrt(abp) + np.sqrt(F32(1) - abp - sigma ** 2) * eps
        mask = (np.asarray(t) != 0).astype(F32).reshape(-1, 1, 1, 1)
        return mp + mask * sigma * noise

    def ddim_reverse(self, model, x, t, y, clip):
        s = self.s
        mean, logvar, x0 = self.pmv(model, x, t, y, clip)
        eps = (g(s.sqrt_recip, t) * x - x0) / g(s.sqrt_recipm1, t)
        abn = g(s.ac_next, t)
        return x0 * np.sqrt(abn) + np.sqrt(F32(1) - abn) * eps

    def loop(self, step, z, noise_fn):
        img, calls = z, 0
        for i in reversed(range(self.s.T)):
            t = np.full(z.shape[0], i)
            img = step(img, t, noise_fn(calls))
            calls += 1
        return img

    def prior_bpd(self, x0):
        t = np.full(x0.shape[0], self.s.T - 1)
        mean = g(self.s.sqrt_ac, t) * x0
        lv = g(self.s.log_1m_ac, t) + np.zeros_like(x0)
        return mean_flat(normal_kl(mean, lv, F32(0.0), F32(0.0))) / F32(LN2)

    def bpd_loop(self, model, x0, y, clip, noise_fn):
        vbs, calls = [None] * self.s.T, 0
        for i in reversed(range(self.s.T)):
            t = np.full(x0.shape[0], i)
            noise = noise_fn(calls)
            calls += 1
            xt = self.q_sample(x0, t, noise)
            out = model(xt, self.model_t(t), y)
            vbs[i] = self.vb_from_output(out, x0, xt, t, clip)[0]
        vb = np.stack(vbs, axis=1)
        prior = self.prior_bpd(x0)
        return vb, vb.sum(axis=1, dtype=F32) + prior, prior


def create(respacing, schedule="linear", use_kl=False, sigma_small=False, predict_xstart=False,
           learn_sigma=True, rescale=False, steps=1000):
    betas = named_betas(schedule, steps)
    kept = space(steps, respacing) if respacing else list(range(steps))
    loss = "rescaled_kl" if use_kl else ("rescaled_mse" if rescale else "mse")
    var = "learned_range" if learn_sigma else ("fixed_small" if sigma_small else "fixed_large")
    mean = "start_x" if predict_xstart else "eps"
    return Process(spaced_schedule(betas, kept), kept, mean, var, loss)


# ---------------------------------------------------------------- toy model and inputs
def toy(learned):
    def f(x, t, y):
        n = x.shape[0]
        tt = t.astype(F32).reshape(n, 1, 1, 1)
        yy = y.astype(F32).reshape(n, 1, 1, 1)
        m = F32(0.3) * x + F32(0.001) * tt + F32(0.05) * yy
        return np.concatenate([m, np.tanh(x)], axis=1) if learned else m
    return f


SHAPE = (4, 2, 3, 3)
Y = np.array([0, 3, 9, 9])


def wave(kind, amp, freq, phase, clip=False, offset=0):
    i = np.arange(int(np.prod(SHAPE)), dtype=np.float64) + offset
    v = amp * (np.sin(freq * i + phase) if kind == "sin" else np.cos(freq * i + phase))
    if clip:
        v = np.clip(v, -1.0, 1.0)
    return v.astype(F32).reshape(SHAPE)


X0 = wave("sin", 1.3, 0.37, 0.1, clip=True)
NOISE = wave("cos", 1.1, 0.23, 0.5)
XT = wave("sin", 1.5, 0.11, -0.3)


def step_noise(k):
    return wave("cos", 0.9, 0.17, 0.05 * k, offset=7 * k)


# ---------------------------------------------------------------- printing
def jd(v):
    return repr(float(v))


def show(name, a):
    a = np.asarray(a)
    flat = a.reshape(-1)
    picks = [0, 5, flat.size // 2, flat.size - 1] if flat.size > 4 else list(range(flat.size))
    print(f"{name}: sum={jd(flat.astype(np.float64).sum())} abs={jd(np.abs(flat.astype(np.float64)).sum())} "
          + " ".join(f"[{k}]={jd(flat[k])}" for k in picks))


def main():
    print("== schedules (float64)")
    lin = Schedule(named_betas("linear", 1000))
    for k in ("ac[0]", "ac[500]", "ac[999]", "post_logvar[0]", "post_logvar[1]", "post_logvar[999]",
              "coef1[1]", "coef2[999]", "sqrt_recipm1[999]", "post_var[0]", "post_var[1]"):
        name, idx = k[:-1].split("[")
        print(k, jd(getattr(lin, name)[int(idx)]))
    cos = Schedule(named_betas("squaredcos_cap_v2", 1000))
    for i in (0, 1, 500, 998, 999):
        print("cos betas", i, jd(cos.betas[i]))
    print("cos ac[998]", jd(cos.ac[998]))
    for spec in ("250", "ddim10", "", "10", "10,20,30"):
        kept = space(1000, spec) if spec else list(range(1000))
        sp = spaced_schedule(named_betas("linear", 1000), kept)
        picks = [0, 1, len(kept) // 2, len(kept) - 1]
        print("spaced", repr(spec), len(kept), kept[:4], kept[-3:],
              " ".join(f"b[{i}]={jd(sp.betas[i])}" for i in picks), "ac_last", jd(sp.ac[-1]),
              "plv[0]", jd(sp.post_logvar[0]))
    print("legacy quad", jd(np.linspace(1e-4 ** 0.5, 0.02 ** 0.5, 1000)[333] ** 2))
    w = 0.02 * np.ones(1000)
    w[:100] = np.linspace(1e-4, 0.02, 100)
    print("legacy warmup10", jd(w[37]), jd(w[100]))
    print("legacy jsd", jd((1.0 / np.linspace(1000, 1, 1000))[990]))

    print("== utils (float64)")
    m1 = np.array([0.3, -1.2, 2.0, 0.0])
    lv1 = np.array([-1.0, 0.5, -3.0, 0.0])
    m2 = np.array([0.1, 0.4, -0.5, 0.0])
    lv2 = np.array([0.2, -0.7, -2.5, 0.0])
    print("normal_kl", [jd(v) for v in normal_kl(m1, lv1, m2, lv2)])
    print("normal_kl prior", [jd(v) for v in normal_kl(m1, lv1, 0.0, 0.0)])
    xs = np.array([-1.0, -0.9995, -0.5, 0.0, 0.25, 0.999, 0.9995, 1.0, 0.8])
    mu = np.array([-0.98, -0.9, -0.45, 0.1, 0.2, 0.95, 1.02, 0.97, -0.9])
    ls = np.array([-3.0, -2.0, -4.0, -1.0, -3.5, -2.5, -4.5, -5.0, -9.0])
    print("cdf", [jd(v) for v in cdf(np.array([-3.0, -0.5, 0.0, 0.7, 2.5]))])
    print("dgll", [jd(v) for v in dgll(xs, mu, ls)])

    print("== training losses (float32)")
    t = np.array([0, 1, 500, 999])
    cases = [
        ("default", create(""), t, True),
        ("rescaled_mse_500", create("", rescale=True, steps=500), np.array([0, 1, 250, 499]), True),
        ("rescaled_kl", create("", use_kl=True), t, True),
        ("xstart_fixed_large", create("", learn_sigma=False, predict_xstart=True), t, False),
        ("kl_fixed_small", create("", use_kl=True, learn_sigma=False, sigma_small=True), t, False),
    ]
    for name, p, tt, learned in cases:
        terms = p.training_losses(toy(learned), X0, tt, Y, NOISE)
        for k in ("mse", "vb", "loss"):
            if k in terms:
                print(name, k, [jd(v) for v in terms[k]])

    print("== p_mean_variance (float32)")
    tp = np.array([0, 1, 100, 249])
    p = create("250")
    mean, logvar, x0 = p.pmv(toy(True), XT, tp, Y, False)
    show("pmv250 mean", mean)
    show("pmv250 logvar", logvar)
    show("pmv250 xstart", x0)
    p = create("250", learn_sigma=False, predict_xstart=True)
    mean, logvar, x0 = p.pmv(toy(False), XT, tp, Y, True)
    show("pmv250 fixedlarge mean", mean)
    show("pmv250 fixedlarge logvar", logvar)
    show("pmv250 fixedlarge xstart", x0)
    p = create("250", learn_sigma=False, sigma_small=True)
    mean, logvar, x0 = p.pmv(toy(False), XT, tp, Y, True, denoised=lambda a: a * F32(0.9))
    show("pmv250 fixedsmall mean", mean)
    show("pmv250 fixedsmall logvar", logvar)
    show("pmv250 fixedsmall xstart", x0)

    print("== loops (float32)")
    p = create("ddim10")
    out = p.loop(lambda img, tt, nz: p.ddim_sample(toy(True), img, tt, Y, False, 0.0, nz), XT, step_noise)
    show("ddim10 eta0", out)
    out = p.loop(lambda img, tt, nz: p.ddim_sample(toy(True), img, tt, Y, True, 0.5, nz), XT, step_noise)
    show("ddim10 eta0.5 clip", out)
    rev = p.ddim_reverse(toy(True), XT, np.array([0, 3, 5, 8]), Y, False)
    show("ddim10 reverse", rev)
    p = create("10")
    out = p.loop(lambda img, tt, nz: p.p_sample(toy(True), img, tt, Y, True, nz), XT, step_noise)
    show("psample10 clip", out)
    vb, total, prior = p.bpd_loop(toy(True), X0, Y, True, step_noise)
    print("bpd10 total", [jd(v) for v in total])
    print("bpd10 prior", [jd(v) for v in prior])
    show("bpd10 vb", vb)
    print("prior1000", [jd(v) for v in create("").prior_bpd(X0)])


if __name__ == "__main__":
    main()
