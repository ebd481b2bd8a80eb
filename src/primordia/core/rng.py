"""Counter-based randomness: a number is a pure function of (seed, stream, tick, entity, draw).

There is no generator state to carry, split or save: the same key always gives the same
number, in plain Python and inside numba kernels, on any machine and with any thread count.

Key words
    ``seed``    the run seed (any integer; reduced mod 2**64).
    ``stream``  what the number is for: a small integer chosen by the caller (a module-level
                constant such as ``STREAM_SPAWN = 1`` in the world that uses it), or
                ``stream_id("spawn")`` when a readable name is wanted.
    ``tick``    the simulation tick (or generation).
    ``entity``  the organism id, cell index, ... the draw belongs to.
    ``draw``    the index of the draw for that (stream, tick, entity): 0, 1, 2, ...

Every word is reduced mod 2**64 exactly as numba casts int64 to uint64, so a negative int64
key equals its two's complement. Numba kernels take int64 (or uint64) words: pass seeds of
2**63 and above through ``key_word`` first, since numba cannot take such Python ints.

Layout: ``mix64`` and ``random_*`` are numba kernels; each has a ``*_py`` twin below it in
plain Python (ints masked to 64 bits) that is the readable oracle; tests check them bit for
bit. Floating-point code uses only + - * / and sqrt (correctly rounded in IEEE 754), never
library transcendentals or fastmath, so both sides produce the same bits everywhere.
"""

from __future__ import annotations

import hashlib
import math
import operator
from dataclasses import dataclass

import numpy as np
from numba import njit

MASK64 = (1 << 64) - 1
TWO_POW_32 = 1 << 32
INV_TWO_POW_53 = 1.1102230246251565e-16  # 2**-53, exact
INV_TWO_POW_54 = 5.551115123125783e-17  # 2**-54, exact

# SplitMix64's output finaliser (Stafford's "Mix13"): a 64-bit bijection with full avalanche.
MIX_M1 = 0xBF58476D1CE4E5B9
MIX_M2 = 0x94D049BB133111EB
# Per-word tweaks: multiples of the golden-ratio gamma, so no word position hashes like another.
GAMMA = 0x9E3779B97F4A7C15
K_SEED = GAMMA
K_STREAM = (2 * GAMMA) & MASK64
K_TICK = (3 * GAMMA) & MASK64
K_ENTITY = (4 * GAMMA) & MASK64
K_DRAW = (5 * GAMMA) & MASK64


def key_word(x: int) -> int:
    """Reduce any integer to the signed 64-bit word with the same bits, the form kernels take."""
    x = operator.index(x) & MASK64
    return x - (1 << 64) if x >= (1 << 63) else x


def stream_id(name: str) -> int:
    """A stable stream number for a readable name (blake2b, 63 bits): never Python's hash()."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"primordia.stream")
    return int.from_bytes(digest.digest(), "little") >> 1


# --------------------------------------------------------------------------------------------
# The hash.
#
# Why this design: each key word is first run through SplitMix64's finaliser (which passes
# BigCrush/PractRand as SplitMix64's output function) with its own tweak, then folded into a
# running hash that is finalised again, so every output bit depends on every key bit through
# at least two full-avalanche rounds, and for a fixed prefix distinct draws never collide (a
# chain of bijections in the last word). Philox/Threefry were set aside: their 128-bit
# counters cannot hold four 63-bit words without a hash like this one in front anyway.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijection of 64-bit words with full avalanche."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX_M2)
    return z ^ (z >> np.uint64(31))


def mix64_py(z: int) -> int:
    """Reference twin of ``mix64``."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX_M1) & MASK64
    z = ((z ^ (z >> 27)) * MIX_M2) & MASK64
    return z ^ (z >> 31)


@njit(cache=True, nogil=True)
def random_u64(seed: int, stream: int, tick: int, entity: int, draw: int) -> np.uint64:
    """A uniformly distributed 64-bit word for the key (seed, stream, tick, entity, draw)."""
    return random_u64_at(key_prefix(seed, stream, tick, entity), draw)


@njit(cache=True, nogil=True, inline="always")
def key_prefix(seed: int, stream: int, tick: int, entity: int) -> np.uint64:
    """The hash state after a key's first four words. Draws of one key differ only in the
    last step, so a loop that takes many draws from one key hashes this once (seven of the
    nine mixes of a draw) and gets each from ``random_u64_at``: the same words."""
    h = mix64(np.uint64(seed) ^ np.uint64(K_SEED))
    h = mix64(h ^ mix64(np.uint64(stream) ^ np.uint64(K_STREAM)))
    h = mix64(h ^ mix64(np.uint64(tick) ^ np.uint64(K_TICK)))
    return mix64(h ^ mix64(np.uint64(entity) ^ np.uint64(K_ENTITY)))


@njit(cache=True, nogil=True, inline="always")
def random_u64_at(prefix: np.uint64, draw: int) -> np.uint64:
    """Draw ``draw`` of the key whose ``key_prefix`` is ``prefix``."""
    return mix64(np.uint64(prefix) ^ mix64(np.uint64(draw) ^ np.uint64(K_DRAW)))


def random_u64_py(seed: int, stream: int, tick: int, entity: int, draw: int) -> int:
    """Reference twin of ``random_u64``."""
    h = mix64_py((seed & MASK64) ^ K_SEED)
    h = mix64_py(h ^ mix64_py((stream & MASK64) ^ K_STREAM))
    h = mix64_py(h ^ mix64_py((tick & MASK64) ^ K_TICK))
    h = mix64_py(h ^ mix64_py((entity & MASK64) ^ K_ENTITY))
    return mix64_py(h ^ mix64_py((draw & MASK64) ^ K_DRAW))


# --------------------------------------------------------------------------------------------
# Integers in [lo, hi): Lemire's multiply-shift on the top 32 bits, with no rejection loop so
# one key is always one draw. For a span n <= 2**32 each outcome has probability
# floor(2**32/n)/2**32 or ceil(2**32/n)/2**32: off from 1/n by less than 2**-32 (absolute),
# and exact when n is a power of two.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def check_int_range(lo: int, hi: int) -> None:
    """Raise unless lo < hi and hi - lo <= 2**32."""
    if hi <= lo or np.uint64(hi) - np.uint64(lo) > np.uint64(TWO_POW_32):
        raise ValueError("random_int needs lo < hi and hi - lo <= 2**32")


@njit(cache=True, nogil=True)
def scale_u64(u: np.uint64, lo: int, hi: int) -> int:
    """``int_from_u64`` without the range check, for loops that check once."""
    span = np.uint64(hi) - np.uint64(lo)
    r = ((np.uint64(u) >> np.uint64(32)) * span) >> np.uint64(32)
    return np.int64(lo) + np.int64(r)


@njit(cache=True, nogil=True)
def int_from_u64(u: np.uint64, lo: int, hi: int) -> int:
    """Map a random 64-bit word to an integer in [lo, hi), hi - lo <= 2**32."""
    check_int_range(lo, hi)
    return scale_u64(u, lo, hi)


def int_from_u64_py(u: int, lo: int, hi: int) -> int:
    """Reference twin of ``int_from_u64``."""
    span = hi - lo
    if span <= 0 or span > TWO_POW_32:
        raise ValueError("random_int needs lo < hi and hi - lo <= 2**32")
    return lo + (((u & MASK64) >> 32) * span >> 32)


@njit(cache=True, nogil=True)
def random_int(seed: int, stream: int, tick: int, entity: int, draw: int,
               lo: int, hi: int) -> int:
    """An integer in [lo, hi) for the key; hi - lo <= 2**32, bias below 2**-32 per outcome."""
    return int_from_u64(random_u64(seed, stream, tick, entity, draw), lo, hi)


def random_int_py(seed: int, stream: int, tick: int, entity: int, draw: int,
                  lo: int, hi: int) -> int:
    """Reference twin of ``random_int``."""
    return int_from_u64_py(random_u64_py(seed, stream, tick, entity, draw), lo, hi)


# --------------------------------------------------------------------------------------------
# Floats in [0, 1): the top 53 bits times 2**-53, every value a multiple of 2**-53.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def float_from_u64(u: np.uint64) -> float:
    """Map a random 64-bit word to a float in [0, 1) with 53 random bits."""
    return np.float64(np.uint64(u) >> np.uint64(11)) * INV_TWO_POW_53


def float_from_u64_py(u: int) -> float:
    """Reference twin of ``float_from_u64``."""
    return float((u & MASK64) >> 11) * INV_TWO_POW_53


@njit(cache=True, nogil=True)
def random_float(seed: int, stream: int, tick: int, entity: int, draw: int) -> float:
    """A float in [0, 1) with 53 random bits for the key."""
    return float_from_u64(random_u64(seed, stream, tick, entity, draw))


def random_float_py(seed: int, stream: int, tick: int, entity: int, draw: int) -> float:
    """Reference twin of ``random_float``."""
    return float_from_u64_py(random_u64_py(seed, stream, tick, entity, draw))


# --------------------------------------------------------------------------------------------
# Deterministic math: + - * / and sqrt only, evaluated in a fixed order (no FMA contraction:
# numba without fastmath emits separate fmul/fadd, CPython does too).
#
# det_log: exact power-of-two range reduction to m in [sqrt(1/2), sqrt(2)), then
#   log(m) = 2*atanh(s), s = f/(2+f), f = m-1 (exact), |s| < 0.1716, as an odd series to
#   s**23 (truncation < 1e-19 relative), arranged as f - s*(f - R) as in fdlibm so rounding
#   falls on the small term, and ln 2 split in two (fdlibm's hi/lo) so e*ln2 is exact.
#   Accuracy: within 2 ulp of math.log for every positive finite float, subnormals included
#   (measured max 1 ulp over 10**6 points; the test asserts 2).
# normal_ppf: Wichura's AS241 (PPND16) rational approximations, about 1e-16 relative by
#   design; with det_log inside, within 2e-15 relative of scipy's ndtri over (2**-54, 1)
#   (measured max 1.1e-15, a few ulp from evaluating the rationals; the test asserts 2e-15).
# --------------------------------------------------------------------------------------------

SQRT2 = 1.4142135623730951
SQRT_HALF = 0.7071067811865476
LN2_HI = 6.93147180369123816490e-01  # low 32 bits zero: e * LN2_HI is exact for every exponent
LN2_LO = 1.90821492927058770002e-10
# 2/(2k+1) for k = 11..1, highest first: log(m) = 2s + s*R with R = z*horner(LOG_SERIES, z).
LOG_SERIES = (2.0 / 23.0, 2.0 / 21.0, 2.0 / 19.0, 2.0 / 17.0, 2.0 / 15.0, 2.0 / 13.0,
              2.0 / 11.0, 2.0 / 9.0, 2.0 / 7.0, 2.0 / 5.0, 2.0 / 3.0)

# AS241 coefficients, highest power first (as in CPython's statistics module).
AS241_A = (2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
           4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
           1.3314166789178437745e+2, 3.3871328727963666080e+0)
AS241_B = (5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
           2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
           4.2313330701600911252e+1, 1.0)
AS241_C = (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
           1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
           4.63033784615654529590e+0, 1.42343711074968357734e+0)
AS241_D = (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
           1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
           2.05319162663775882187e+0, 1.0)
AS241_E = (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
           2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
           5.46378491116411436990e+0, 6.65790464350110377720e+0)
AS241_F = (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
           7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
           5.99832206555887937690e-1, 1.0)


@njit(cache=True, nogil=True)
def horner(coeffs, x: float) -> float:
    """Evaluate a polynomial given highest power first, in a fixed order."""
    acc = coeffs[0]
    for i in range(1, len(coeffs)):
        acc = acc * x + coeffs[i]
    return acc


def horner_py(coeffs: tuple[float, ...], x: float) -> float:
    """Reference twin of ``horner``."""
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc


@njit(cache=True, nogil=True)
def det_log(x: float) -> float:
    """Natural log of a positive finite float, bit-identical on every machine (see above)."""
    m = np.float64(x)
    e = np.int64(0)
    while m >= 4294967296.0:
        m *= 2.3283064365386963e-10  # 2**-32: exact scaling
        e += 32
    while m < 2.3283064365386963e-10:
        m *= 4294967296.0
        e -= 32
    while m >= 256.0:
        m *= 0.00390625
        e += 8
    while m < 0.00390625:
        m *= 256.0
        e -= 8
    while m >= SQRT2:
        m *= 0.5
        e += 1
    while m < SQRT_HALF:
        m *= 2.0
        e -= 1
    f = m - 1.0  # exact
    s = f / (2.0 + f)
    z = s * s
    r = z * horner(LOG_SERIES, z)
    fe = np.float64(e)
    # 2s = f - s*f, so log(m) = f - s*(f - r): the rounding lands on the small correction.
    return fe * LN2_HI + (f - (s * (f - r) - fe * LN2_LO))


def det_log_py(x: float) -> float:
    """Reference twin of ``det_log``."""
    m = float(x)
    e = 0
    while m >= 4294967296.0:
        m *= 2.3283064365386963e-10
        e += 32
    while m < 2.3283064365386963e-10:
        m *= 4294967296.0
        e -= 32
    while m >= 256.0:
        m *= 0.00390625
        e += 8
    while m < 0.00390625:
        m *= 256.0
        e -= 8
    while m >= SQRT2:
        m *= 0.5
        e += 1
    while m < SQRT_HALF:
        m *= 2.0
        e -= 1
    f = m - 1.0  # exact
    s = f / (2.0 + f)
    z = s * s
    r = z * horner_py(LOG_SERIES, z)
    fe = float(e)
    # 2s = f - s*f, so log(m) = f - s*(f - r): the rounding lands on the small correction.
    return fe * LN2_HI + (f - (s * (f - r) - fe * LN2_LO))


@njit(cache=True, nogil=True)
def normal_ppf(p: float) -> float:
    """Standard normal quantile for p in (0, 1) (AS241 with ``det_log``)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * horner(AS241_A, r) / horner(AS241_B, r)
    r = p if q <= 0.0 else 1.0 - p
    r = math.sqrt(-det_log(r))
    if r <= 5.0:
        r = r - 1.6
        x = horner(AS241_C, r) / horner(AS241_D, r)
    else:
        r = r - 5.0
        x = horner(AS241_E, r) / horner(AS241_F, r)
    return -x if q < 0.0 else x


def normal_ppf_py(p: float) -> float:
    """Reference twin of ``normal_ppf``."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * horner_py(AS241_A, r) / horner_py(AS241_B, r)
    r = p if q <= 0.0 else 1.0 - p
    r = math.sqrt(-det_log_py(r))
    if r <= 5.0:
        r = r - 1.6
        x = horner_py(AS241_C, r) / horner_py(AS241_D, r)
    else:
        r = r - 5.0
        x = horner_py(AS241_E, r) / horner_py(AS241_F, r)
    return -x if q < 0.0 else x


# --------------------------------------------------------------------------------------------
# Normals: inverse CDF of the top 53 bits k, one key per number. The tail probability is
# built from integers so it is exact and the result symmetric: for k < 2**52 it is
# (2k+1)/2**54, else (2(2**53-1-k)+1)/2**54 with the sign flipped; so p never reaches 0 or 1
# and |z| <= 8.3.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def normal_from_u64(u: np.uint64) -> float:
    """Map a random 64-bit word to a standard normal deviate."""
    k = np.uint64(u) >> np.uint64(11)
    half = np.uint64(1) << np.uint64(52)
    if k < half:
        j = k
    else:
        j = (half + half - np.uint64(1)) - k
    tail = np.float64(j + j + np.uint64(1)) * INV_TWO_POW_54
    z = normal_ppf(tail)
    return z if k < half else -z


def normal_from_u64_py(u: int) -> float:
    """Reference twin of ``normal_from_u64``."""
    k = (u & MASK64) >> 11
    half = 1 << 52
    j = k if k < half else (2 * half - 1) - k
    tail = float(2 * j + 1) * INV_TWO_POW_54
    z = normal_ppf_py(tail)
    return z if k < half else -z


@njit(cache=True, nogil=True)
def random_normal(seed: int, stream: int, tick: int, entity: int, draw: int) -> float:
    """A standard normal deviate for the key."""
    return normal_from_u64(random_u64(seed, stream, tick, entity, draw))


def random_normal_py(seed: int, stream: int, tick: int, entity: int, draw: int) -> float:
    """Reference twin of ``random_normal``."""
    return normal_from_u64_py(random_u64_py(seed, stream, tick, entity, draw))


# --------------------------------------------------------------------------------------------
# Batches: one numba call draws for a whole population (entity ids in an int64 array).
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def random_u64_for(seed: int, stream: int, tick: int, entities: np.ndarray,
                   draw: int) -> np.ndarray:
    """``random_u64`` for each entity id, as a uint64 array."""
    out = np.empty(entities.shape[0], dtype=np.uint64)
    for i in range(entities.shape[0]):
        out[i] = random_u64(seed, stream, tick, entities[i], draw)
    return out


@njit(cache=True, nogil=True)
def random_ints_for(seed: int, stream: int, tick: int, entities: np.ndarray, draw: int,
                    lo: int, hi: int) -> np.ndarray:
    """``random_int`` for each entity id, as an int64 array."""
    check_int_range(lo, hi)
    out = np.empty(entities.shape[0], dtype=np.int64)
    for i in range(entities.shape[0]):
        out[i] = scale_u64(random_u64(seed, stream, tick, entities[i], draw), lo, hi)
    return out


@njit(cache=True, nogil=True)
def random_floats_for(seed: int, stream: int, tick: int, entities: np.ndarray,
                      draw: int) -> np.ndarray:
    """``random_float`` for each entity id, as a float64 array."""
    out = np.empty(entities.shape[0], dtype=np.float64)
    for i in range(entities.shape[0]):
        out[i] = random_float(seed, stream, tick, entities[i], draw)
    return out


@njit(cache=True, nogil=True)
def random_normals_for(seed: int, stream: int, tick: int, entities: np.ndarray,
                       draw: int) -> np.ndarray:
    """``random_normal`` for each entity id, as a float64 array."""
    out = np.empty(entities.shape[0], dtype=np.float64)
    for i in range(entities.shape[0]):
        out[i] = random_normal(seed, stream, tick, entities[i], draw)
    return out


# --------------------------------------------------------------------------------------------
# Python-side convenience.
@njit(cache=True, nogil=True)
def random_u64_draws(seed: int, stream: int, tick: int, entity: int, first: int,
                     count: int) -> np.ndarray:
    """Draws ``first .. first + count - 1`` of one key, as a uint64 array."""
    out = np.empty(count, dtype=np.uint64)
    prefix = key_prefix(seed, stream, tick, entity)
    for j in range(count):
        out[j] = random_u64_at(prefix, first + j)
    return out


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rng:
    """A run's randomness: the seed, with the rest of the key given per call (pure Python)."""

    seed: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", operator.index(self.seed) & MASK64)

    @property
    def seed_word(self) -> int:
        """The seed as the signed 64-bit word numba kernels take."""
        return key_word(self.seed)

    def u64(self, stream: int, tick: int, entity: int, draw: int) -> int:
        """A uniform 64-bit word."""
        return random_u64_py(self.seed, stream, tick, entity, draw)

    def integers(self, stream: int, tick: int, entity: int, draw: int, lo: int, hi: int) -> int:
        """An integer in [lo, hi), hi - lo <= 2**32."""
        return random_int_py(self.seed, stream, tick, entity, draw, lo, hi)

    def random(self, stream: int, tick: int, entity: int, draw: int) -> float:
        """A float in [0, 1) with 53 random bits."""
        return random_float_py(self.seed, stream, tick, entity, draw)

    def normal(self, stream: int, tick: int, entity: int, draw: int) -> float:
        """A standard normal deviate."""
        return random_normal_py(self.seed, stream, tick, entity, draw)


class DrawStream:
    """The successive draws 0, 1, 2, ... of one (stream, tick, entity) key, for Python code that
    needs an unknown number of random numbers per organism (variation operators, spawning
    decisions). Words come from one numba call per block of 64; draw ``j`` is exactly
    ``Rng.u64(stream, tick, entity, j)``."""

    BLOCK = 64

    def __init__(self, rng: Rng, stream: int, tick: int, entity: int) -> None:
        self.key = (rng.seed_word, key_word(stream), key_word(tick), key_word(entity))
        self.words: list[int] = []
        self.used = 0

    def u64(self) -> int:
        """The next uniform 64-bit word."""
        if self.used == len(self.words):
            self.words.extend(random_u64_draws(*self.key, len(self.words), self.BLOCK).tolist())
        self.used += 1
        return self.words[self.used - 1]

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi)."""
        return int_from_u64_py(self.u64(), lo, hi)

    def random(self) -> float:
        """A float in [0, 1)."""
        return float_from_u64_py(self.u64())

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.random() < p

    def choice(self, seq):
        """One element of a non-empty sequence."""
        return seq[self.integer(0, len(seq))]
