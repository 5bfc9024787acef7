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
    # BEGIN SOLUTION
    k = params.shape[-1] // 3
    logits, means, log_scales = params.split(k, dim=-1)  # (..., K) each
    centre = (2 * x.to(params.dtype) / 255 - 1).unsqueeze(-1)  # (..., 1)
    inv_s = torch.exp(-log_scales)
    upper = (centre + HALF_BIN - means) * inv_s  # (..., K) standardised bin edges
    lower = (centre - HALF_BIN - means) * inv_s
    # log(sigmoid(upper) - sigmoid(lower)), stable: the difference of edges is 2/255 * inv_s > 0
    inner = (
        torch.nn.functional.logsigmoid(upper)
        + torch.nn.functional.logsigmoid(-lower)
        + torch.log(-torch.expm1(lower - upper))
    )
    first = torch.nn.functional.logsigmoid(upper)  # P(0): the bin reaches down to -inf
    last = torch.nn.functional.logsigmoid(-lower)  # P(255): up to +inf
    value = x.to(params.dtype).unsqueeze(-1)
    log_p = torch.where(value <= 0, first, torch.where(value >= 255, last, inner))
    return torch.logsumexp(log_p + torch.log_softmax(logits, dim=-1), dim=-1)
    # END SOLUTION
