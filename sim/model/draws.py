"""An actor's random stream: numpy's draws, bit for bit, made in compiled loops.

Each actor draws from its own ``numpy.random.Generator`` (``DrawdownModel.streams``). A ``Stream``
wraps one and gives the same numbers as the Generator's own methods, in the same order, leaving
the Generator in the same state, so mixing the two is safe:

* ``uniforms(out)`` is ``generator.random(out=out)``;
* ``normals(out)`` is ``generator.standard_normal(out=out)`` (numpy's ziggurat, numpy's tables);
* ``raw(n)`` is ``generator.bit_generator.random_raw(n)``.

Why: numpy makes one 64-bit number at a time through a function pointer, and each PCG64 step
waits for the last (a 128-bit multiply and add), so a block's draws were about a seventh of its
time. Here the sequence is computed four steps apart in four independent lanes (the LCG's
jump-ahead: four steps are one multiply and add by other constants), then written in order.

The loops read and write the PCG64 state where numpy keeps it (a 128-bit state and increment,
low word first, as numpy's C code lays them out where the compiler has 128-bit integers), for
the numpy versions known to keep it there (before 3). The words are checked against
``bit_generator.state`` when a ``Stream`` is made; for another layout, another numpy or another
bit generator the methods call numpy instead, with the same results. The normals use numpy's
ziggurat tables as numba ships them (for its own port of numpy's sampler): tables re-derived from
the method's definition differ from numpy's in the last digits.
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from sim.model.kernels import COMPILE

try:  # numpy's ziggurat tables, as numba copies them for its port of numpy's sampler
    from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r
    _TABLES = True
except ImportError:  # pragma: no cover - a numba without them: numpy draws the normals
    _TABLES = False

#: PCG64's 128-bit multiplier (numpy's PCG_DEFAULT_MULTIPLIER_128), high and low words.
_MULT_HIGH = np.uint64(2549297995355413924)
_MULT_LOW = np.uint64(4865540595714422341)
#: A double from the top 53 bits of a draw (numpy's ``next_double``).
_TO_DOUBLE = 1.0 / 9007199254740992.0
_ZERO, _ONE = np.uint64(0), np.uint64(1)
#: Lanes computed side by side: four independent chains hide the multiply's latency.
LANES = 4


@intrinsic
def _multiply_add(typingctx, xh, xl, mh, ml, ph, pl):
    """m·x + p modulo 2^128, each number as (high, low) uint64 words: one LCG step, or a jump
    with a jump's constants. LLVM's 128-bit integers: three multiplies on x86-64."""
    def codegen(context, builder, signature, args):
        wide, word = ir.IntType(128), ir.IntType(64)
        shift = ir.Constant(wide, 64)

        def join(high, low):
            return builder.or_(builder.shl(builder.zext(high, wide), shift), builder.zext(low, wide))

        x, m, p = join(args[0], args[1]), join(args[2], args[3]), join(args[4], args[5])
        y = builder.add(builder.mul(x, m), p)
        pair = context.make_tuple(builder, signature.return_type,
                                  (builder.trunc(builder.lshr(y, shift), word),
                                   builder.trunc(y, word)))
        return pair
    word = types.uint64
    return types.UniTuple(word, 2)(word, word, word, word, word, word), codegen


@njit(inline="always", **COMPILE)
def _multiply(ah, al, bh, bl):  # pragma: no cover - compiled
    """(ah, al) × (bh, bl) modulo 2^128, as (high, low) words."""
    return _multiply_add(ah, al, bh, bl, _ZERO, _ZERO)


@njit(inline="always", **COMPILE)
def _add(ah, al, bh, bl):  # pragma: no cover - compiled
    """(ah, al) + (bh, bl) modulo 2^128."""
    return _multiply_add(ah, al, _ZERO, _ONE, bh, bl)


@njit(inline="always", **COMPILE)
def _output(h, l):  # pragma: no cover - compiled
    """PCG64's output of a state: XSL-RR (the two halves xor-ed, rotated by the top 6 bits)."""
    x = h ^ l
    rot = h >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(inline="always", **COMPILE)
def _jump(ih, il, steps):  # pragma: no cover - compiled
    """The constants (m, p) of ``steps`` LCG steps at once: state → m·state + p (numpy's
    ``pcg_advance_lcg_128``, by squaring)."""
    mh, ml, ph, pl = _MULT_HIGH, _MULT_LOW, ih, il  # one step
    ah, al, bh, bl = _ZERO, _ONE, _ZERO, _ZERO  # none
    delta = np.uint64(steps)
    while delta > _ZERO:
        if delta & _ONE:
            ah, al = _multiply(ah, al, mh, ml)
            bh, bl = _multiply_add(bh, bl, mh, ml, ph, pl)
        sh, sl = _add(mh, ml, _ZERO, _ONE)
        ph, pl = _multiply(sh, sl, ph, pl)
        mh, ml = _multiply(mh, ml, mh, ml)
        delta >>= _ONE
    return ah, al, bh, bl


@njit(inline="always", **COMPILE)
def _emit(out, k, h, l, double):  # pragma: no cover - compiled
    r = _output(h, l)
    if double:
        out[k] = (r >> np.uint64(11)) * _TO_DOUBLE
    else:
        out[k] = r


@njit(inline="always", **COMPILE)
def _generate(state, out, double):  # pragma: no cover - compiled
    """The next ``out.size`` draws of the PCG64 ``state`` (low, high, increment low, high) into
    ``out`` (as doubles if ``double``), and ``state`` advanced past them."""
    n = out.size
    sl, sh, il, ih = state[0], state[1], state[2], state[3]
    # lane j holds step j + 1, then every fourth step after it
    h0, l0 = _multiply_add(sh, sl, _MULT_HIGH, _MULT_LOW, ih, il)
    h1, l1 = _multiply_add(h0, l0, _MULT_HIGH, _MULT_LOW, ih, il)
    h2, l2 = _multiply_add(h1, l1, _MULT_HIGH, _MULT_LOW, ih, il)
    h3, l3 = _multiply_add(h2, l2, _MULT_HIGH, _MULT_LOW, ih, il)
    mh, ml, ph, pl = _jump(ih, il, LANES)
    k = 0
    while k + LANES <= n:
        _emit(out, k, h0, l0, double)
        _emit(out, k + 1, h1, l1, double)
        _emit(out, k + 2, h2, l2, double)
        _emit(out, k + 3, h3, l3, double)
        h0, l0 = _multiply_add(h0, l0, mh, ml, ph, pl)
        h1, l1 = _multiply_add(h1, l1, mh, ml, ph, pl)
        h2, l2 = _multiply_add(h2, l2, mh, ml, ph, pl)
        h3, l3 = _multiply_add(h3, l3, mh, ml, ph, pl)
        k += LANES
    if k < n:
        _emit(out, k, h0, l0, double)
    if k + 1 < n:
        _emit(out, k + 1, h1, l1, double)
    if k + 2 < n:
        _emit(out, k + 2, h2, l2, double)
    ah, al, bh, bl = _jump(ih, il, n)
    state[1], state[0] = _multiply_add(sh, sl, ah, al, bh, bl)


@njit(**COMPILE)
def _fill_uniforms(state, out):  # pragma: no cover - compiled
    _generate(state, out, True)


@njit(**COMPILE)
def _fill_raw(state, out):  # pragma: no cover - compiled
    _generate(state, out, False)


@njit(**COMPILE)
def _fill_normals(state, out):  # pragma: no cover - compiled
    """numpy's ``random_standard_normal`` (ziggurat) for each value of ``out``, from draws made
    ahead in lanes. Returns False, leaving ``state`` as it was, in the (never seen) case that
    the rejections used more draws than were made ahead; the caller then asks numpy."""
    n = out.size
    # about 1% of values need a second draw (a wedge) or more (the tail): 3% and 64 to spare
    draws = np.empty(n + n // 32 + 64, np.uint64)
    ahead = state.copy()
    _generate(ahead, draws, False)
    used = 0
    i = 0
    while i < n:
        if used >= draws.size:
            return False
        r = draws[used]
        used += 1
        idx = r & np.uint64(0xff)
        rabs = (r >> np.uint64(9)) & np.uint64(0x000fffffffffffff)
        # numpy negates where the sign bit (bit 8) is set; multiplying by -1.0 gives the same
        # bits, without a branch that goes each way half the time
        x = rabs * wi_double[idx] * (1.0 - 2.0 * np.float64((r >> np.uint64(8)) & _ONE))
        if rabs < ki_double[idx]:  # 99% of values
            out[i] = x
            i += 1
            continue
        x, used, verdict = _ziggurat_edge(draws, used, idx, rabs, x)
        if verdict < 0:
            return False
        if verdict > 0:
            out[i] = x
            i += 1
    sl, sh, il, ih = state[0], state[1], state[2], state[3]
    ah, al, bh, bl = _jump(ih, il, used)
    state[1], state[0] = _multiply_add(sh, sl, ah, al, bh, bl)
    return True


@njit(**COMPILE)
def _ziggurat_edge(draws, used, idx, rabs, x):  # pragma: no cover - compiled
    """The ziggurat's rare cases: the base strip's tail (``idx`` 0) or a wedge. Returns the
    value, the draws used so far, and 1 if accepted, 0 if rejected (the caller draws again),
    -1 if the draws made ahead ran out."""
    if idx == 0:
        while True:
            if used + 2 > draws.size:
                return x, used, -1
            u1 = (draws[used] >> np.uint64(11)) * _TO_DOUBLE
            u2 = (draws[used + 1] >> np.uint64(11)) * _TO_DOUBLE
            used += 2
            xx = -ziggurat_nor_inv_r * np.log1p(-u1)
            yy = -np.log1p(-u2)
            if yy + yy > xx * xx:
                if (rabs >> np.uint64(8)) & _ONE:
                    return -(ziggurat_nor_r + xx), used, 1
                return ziggurat_nor_r + xx, used, 1
    if used >= draws.size:
        return x, used, -1
    u = (draws[used] >> np.uint64(11)) * _TO_DOUBLE
    used += 1
    if (fi_double[idx - _ONE] - fi_double[idx]) * u + fi_double[idx] < np.exp(-0.5 * x * x):
        return x, used, 1
    return x, used, 0


#: numpy versions whose PCG64 keeps, at ``ctypes.state_address``, a pointer to its 128-bit state
#: and increment (numpy 1.17 to 2.x). The pointer is followed only for these: for a numpy that
#: laid the struct out otherwise it could point anywhere, so ``Stream`` asks numpy instead.
_KNOWN_LAYOUT = np.lib.NumpyVersion(np.__version__) < "3.0.0"


def _state_words(bit_generator) -> np.ndarray | None:
    """numpy's PCG64 state as four uint64 words in place (state low, high, increment low,
    high), or None if ``bit_generator`` is not a PCG64 laid out that way."""
    if type(bit_generator) is not np.random.PCG64 or not _KNOWN_LAYOUT:
        return None
    address = ctypes.c_void_p.from_address(bit_generator.ctypes.state_address).value
    words = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(address))
    state = bit_generator.state["state"]
    mask = (1 << 64) - 1
    expected = [state["state"] & mask, state["state"] >> 64, state["inc"] & mask, state["inc"] >> 64]
    return words if [int(w) for w in words] == expected else None


class Stream:
    """A Generator's draws, made in compiled loops (see the module docstring).

    Args:
        generator: The ``numpy.random.Generator`` to draw from (its state moves as its own
            methods would move it). ``generator`` is kept in ``self.generator``.
    """

    def __init__(self, generator: np.random.Generator):
        self.generator = generator
        self._state = _state_words(generator.bit_generator)

    def uniforms(self, out: np.ndarray) -> np.ndarray:
        """``generator.random(out=out)``: uniforms in [0, 1) into the float64 array ``out``."""
        if self._state is None or out.dtype != np.float64 or not out.flags.c_contiguous:
            return self.generator.random(out=out)
        _fill_uniforms(self._state, out.reshape(-1))
        return out

    def normals(self, out: np.ndarray) -> np.ndarray:
        """``generator.standard_normal(out=out)`` into the float64 array ``out``."""
        if (self._state is None or not _TABLES or out.dtype != np.float64
                or not out.flags.c_contiguous or not _fill_normals(self._state, out.reshape(-1))):
            return self.generator.standard_normal(out=out)
        return out

    def raw(self, n: int) -> np.ndarray:
        """``generator.bit_generator.random_raw(n)``: ``n`` raw 64-bit draws."""
        if self._state is None:
            return self.generator.bit_generator.random_raw(n)
        out = np.empty(n, np.uint64)
        _fill_raw(self._state, out)
        return out
