#!/usr/bin/env python3
"""Derives the constants of the sigmoid-based activations and writes them as
runtime/internal/act_consts.h (python3 scripts/fit_activations.py > runtime/internal/act_consts.h). Python 3 standard library only; run it after
changing the method, and check the result with the activation sweep test
(tests/c/test_activation_sweep.c).

The kernels compute sigmoid(w) as a quotient of exponentials scaled by 2^K
(K = 32) so that neither underflows before the result does:

    e = 2^K exp(-|w|)                    (0 <= e <= 2^K)
    sigmoid(w) = (w < 0 ? e : 2^K) / (2^K + e)

exp(z), z = -|w| clamped to >= ZMIN, is 2^n exp(t) with n = round(z log2 e)
and t = z - n ln2 in [-ln2/2, ln2/2] (n ln2 in two parts, the first exact
in float); 2^(n+K) is built in the exponent bits from the low bits of
z log2e + MAGIC, and exp(t) = 1 + t P(t) with P the degree-5 polynomial
minimizing the relative error of exp on that interval (Remez exchange).

gelu(x) = x Phi(x) is x sigmoid(l(x)), l(x) = ln(Phi(x) / Phi(-x)) the
logit of the normal CDF, an odd function approximated by x R(min(x^2, 36)),
R of degree 7 minimizing the error that reaches gelu:
|x| Phi(x) Phi(-x) |l - x R| on [0, 6] (beyond 6, l > 17 and sigmoid rounds
to 1 or the result is below 1e-8).
"""
import math
import struct

K = 32


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def solve(a, b):
    n = len(a)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def remez(basis, f, w, lo, hi, iters=60, grid=40000):
    """Coefficients a minimizing max |w(t) (sum a_j basis_j(t) - f(t))| on
    [lo, hi], and that maximum."""
    n = len(basis)
    pts = [lo + (hi - lo) * (1 - math.cos(math.pi * (i + 0.5) / (n + 1))) / 2 for i in range(n + 1)]
    xs = [lo + (hi - lo) * i / grid for i in range(grid + 1)]
    a, worst = None, None
    for _ in range(iters):
        rows = [[w(x) * b(x) for b in basis] + [(-1) ** i] for i, x in enumerate(pts)]
        a = solve(rows, [w(x) * f(x) for x in pts])[:n]
        err = [w(x) * (sum(c * b(x) for c, b in zip(a, basis)) - f(x)) for x in xs]
        worst = max(abs(e) for e in err)
        ext = [i for i in range(len(xs))
               if (i == 0 or abs(err[i]) >= abs(err[i - 1])) and (i + 1 == len(xs) or abs(err[i]) >= abs(err[i + 1]))]
        alt = []
        for i in ext:
            if alt and (err[alt[-1]] >= 0) == (err[i] >= 0):
                if abs(err[i]) > abs(err[alt[-1]]):
                    alt[-1] = i
            else:
                alt.append(i)
        while len(alt) > n + 1:
            alt.pop(0 if abs(err[alt[0]]) < abs(err[alt[-1]]) else -1)
        if len(alt) < n + 1:
            break
        pts = [xs[i] for i in alt]
    return a, worst


def powers(step, count):
    return [(lambda k: (lambda t: t ** (step * k)))(k) for k in range(count)]


def exp_poly():
    # exp(t) = 1 + t P(t): P fits expm1(t)/t with weight |t|/exp(t) (relative error)
    f = lambda t: math.expm1(t) / t if t else 1.0
    w = lambda t: abs(t) / math.exp(t) if t else 1e-300
    return remez(powers(1, 6), f, w, -0.3466, 0.3466)


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def gelu_poly():
    f = lambda x: (math.log(phi(x)) - math.log(phi(-x))) / x if x else 4 / math.sqrt(2 * math.pi)
    w = lambda x: x * phi(x) * phi(-x)
    return remez(powers(2, 8), f, w, 0.0, 6.0)


def literal(v):
    v = f32(v)
    if v == int(v) and abs(v) < 2 ** 24:
        return "%.1ff" % v
    m, e = float.hex(v).split("p")
    return m.rstrip("0").rstrip(".") + "p" + e + "f"


def main():
    c, ce = exp_poly()
    r, re = gelu_poly()
    ln2_hi = 0.693359375  # 355/512: n ln2_hi is exact in float for |n| < 2^15
    s2pi = math.sqrt(2 / math.pi)
    rows = [
        ("sign", -0.0, "or-ed into w: -|w|"),
        ("zmin", -110.0, "-|w| clamped here: 2^(n+K) is 0 from n = -(127+K) on"),
        ("log2e", 1 / math.log(2), "log2(e)"),
        ("magic", 1.5 * 2 ** 23 + 127 + K, "1.5*2^23 + 127 + K: z log2e + magic holds n + 127 + K in its low bits"),
        ("nln2_hi", -ln2_hi, "-ln2 in two parts, the first with 9 bits: n ln2_hi is exact"),
        ("nln2_lo", -(math.log(2) - ln2_hi), "-(ln2 - ln2_hi)"),
    ]
    for i, v in enumerate(c):
        rows.append(("exp_c%d" % (i + 1), v, "exp(t) = 1 + t (c1 + c2 t + ... + c6 t^5)" if i == 0 else ""))
    rows += [
        ("scale", 2.0 ** K, "2^K (K = %d): the exponentials' scale" % K),
        ("big", 2.0 ** (K + 28), "x * big >= 2^K once |w| is large enough for e < 2^K"),
        ("huge", 2.0 ** 90, "x clamped to [-huge, huge] before x * 2^K"),
        ("nhuge", -(2.0 ** 90), "-huge"),
        ("one", 1.0, "x - 1 <= x sigmoid(w) for every x: restores x beyond huge"),
        ("gelu_tanh_c1", 2 * s2pi, "w = x (c1 + c3 x^2) = 2 sqrt(2/pi) (x + 0.044715 x^3)"),
        ("gelu_tanh_c3", 2 * s2pi * 0.044715, ""),
    ]
    for i, v in enumerate(r):
        rows.append(("gelu_r%d" % i, v, "w = x (r0 + r1 y + ... + r7 y^7), y = min(x^2, x2max)" if i == 0 else ""))
    rows.append(("gelu_x2max", 36.0, "the fit ends at |x| = 6"))
    print(HEADER % (ce, re))
    print("/* X(name, value) for each constant, in this order. */")
    print("#define SEPTUNE_ACT_CONSTS(X) \\")
    for i, (name, v, doc) in enumerate(rows):
        lit = "-0.0f" if name == "sign" else literal(v)
        line = "  X(%-13s %-16s)" % (name + ",", lit)
        if doc:
            line += " /* " + doc + " */"
        print(line + ("" if i + 1 == len(rows) else " \\"))
    print("")
    print("#endif")


HEADER = """/*
 * act_consts.h — the constants of the sigmoid, silu, gelu and gelu_tanh
 * kernels, for every implementation of them: the generic kernels
 * (generic_kernels.c) and the generator, which gets them from generator.c as
 * septune_host.act_consts and puts them in the kernels' argument record
 * (generator/kernel_abi.lua) and the portable C (generator/c_activation.lua).
 *
 * Generated by scripts/fit_activations.py, which explains the method and
 * derives the polynomials; do not edit. Fit errors: exp(t) relative %.3g,
 * gelu's logit %.3g (weighted as it reaches gelu). The bounds the kernels
 * meet are in septune.h, measured by tests/c/test_activation_sweep.c.
 */
#ifndef SEPTUNE_ACT_CONSTS_H
#define SEPTUNE_ACT_CONSTS_H
"""


if __name__ == "__main__":
    main()
