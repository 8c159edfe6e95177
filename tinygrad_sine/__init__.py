"""tinygrad_sine: a small reverse-mode autodiff engine for learning backpropagation.

The public names live here; the drawing code (``viz``) loads matplotlib and
graphviz only when a drawing function is called.
"""

from .anomaly import AnomalyError, detect_anomaly
from .autograd import enable_grad, grad, no_grad, topo_order
from .compile import TraceError, compile  # the function `compile` shadows its module
from .functions import concatenate, maximum, minimum, stack, where
from .gradcheck import GradcheckError, gradcheck
from .show import show, show_text  # the function `show` shadows the module of that name
from .stepper import Stepper
from .value import Value, apply

__all__ = [
    "Value",
    "apply",
    "grad",
    "no_grad",
    "enable_grad",
    "topo_order",
    "detect_anomaly",
    "AnomalyError",
    "gradcheck",
    "GradcheckError",
    "show",
    "show_text",
    "Stepper",
    "compile",
    "TraceError",
    "maximum",
    "minimum",
    "where",
    "concatenate",
    "stack",
]
__version__ = "0.1.0"
