"""The special functions of SciPy the model and its scenarios use: the normal quantile
(``ndtri``), the inverse regularised incomplete Beta function (``betaincinv``) and the log Beta
function (``betaln``).

They come from ``scipy.special._ufuncs``, the compiled module where ``scipy.special`` itself
takes them (the same objects), so that the command line, which defers ``scipy.special``'s
package ``__init__`` (``sim/_lazy.py``), does not load its array-API layer (~0.2 s at start).
A SciPy without that module gives them from ``scipy.special``.
"""

try:
    from scipy.special._ufuncs import betaincinv, betaln, ndtri
except ImportError:  # pragma: no cover - a SciPy that moved them
    from scipy.special import betaincinv, betaln, ndtri

__all__ = ["betaincinv", "betaln", "ndtri"]
