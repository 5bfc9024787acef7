"""A mixture of discretized logistics over 8-bit pixel values (the bonus's output distribution).

Salimans et al., PixelCNN++ (2017), section 2.1, and Chen et al. (2016), who use it in the
VLAE's PixelCNN decoder. The 256 values k = 0 .. 255 of a pixel sit at the centres
c_k = 2 k / 255 - 1 on [-1, 1], 2 / 255 apart. The value k receives the probability mass of a
continuous logistic over its bin [c_k - 1/255, c_k + 1/255], except at the edges, whose bins
reach to infinity so that the 256 probabilities sum to one:

    P(k) = sigmoid((c_k + 1/255 - m) / s) - sigmoid((c_k - 1/255 - m) / s)   for 0 < k < 255
    P(0) = sigmoid((c_0 + 1/255 - m) / s)
    P(255) = 1 - sigmoid((c_255 - 1/255 - m) / s)

with m the mean and s = exp(log_scale) the scale. A mixture of K such components weights them
with softmax(logits).
"""

import torch

HALF_BIN = 1 / 255  # half the distance between neighbouring centres on [-1, 1]


def discretized_logistic_mixture_log_prob(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """log P(x) of 8-bit values under a mixture of K discretized logistics, elementwise.

    Every value of x has its own mixture, read from the last axis of `params`:
    params[..., :K] are the mixture logits, params[..., K:2K] the means m (on the [-1, 1]
    scale of the centres c_k) and params[..., 2K:] the log-scales log s.

    The result must stay finite and accurate where a value lies far in the tails of every
    component (sigmoid(a) - sigmoid(b) rounds to 0 there): work in log space, for example with
    F.logsigmoid and log(sigmoid(a) - sigmoid(b)) = logsigmoid(a) + logsigmoid(-b)
    + log(1 - exp(b - a)).

    Args:
        x: (...) pixel values, integers 0 .. 255 (any dtype).
        params: (..., 3K) mixture parameters, K >= 1.

    Returns:
        (...) log-probabilities, same shape as x, not reduced.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError
