import numpy as np
import os
import shutil
import sys
import torch
import os
import pickle
script_directory = os.path.dirname(os.path.abspath(__file__))

if 'solution' in script_directory:
    from solution.models.gmvae import GMVAE
    from solution.models.ssvae import SSVAE
    from solution.models.vae import VAE
else:
    from submission.models.gmvae import GMVAE
    from submission.models.ssvae import SSVAE
    from submission.models.vae import VAE

from torch.nn import functional as F
from torchvision import datasets, transforms

################################################################################
# Read the code below before you start.
#
# Notation: argument: argument_type: argument_shape
################################################################################

def sample_gaussian(m, v):
    """
    Element-wise application reparameterization trick to sample from Gaussian

    Args:
        m: tensor: (batch, ...): Mean
        v: tensor: (batch, ...): Variance

    Return:
        z: tensor: (batch, dim): Samples
    """
    ################################################################################
    # TODO: Modify/complete the code here
    # Sample z
    ################################################################################
    ### START CODE HERE ###
    epsilon = torch.randn_like(v)
    z = m + torch.sqrt(v) * epsilon
    return z
    ### END CODE HERE ###
    ################################################################################
    # End of code modification
    ################################################################################
    raise NotImplementedError


def log_normal(x, m, v):
    """
    Computes the elem-wise log probability of a Gaussian and then sum over the
    last dim.

    Args:
        x: tensor: (batch_1, batch_2, ..., batch_k, dim): Observation
        m: tensor: (batch_1, batch_2, ..., batch_k, dim): Mean
        v: tensor: (batch_1, batch_2, ..., batch_k, dim): Variance

    Return:
        log_prob: tensor: (batch_1, batch_2, ..., batch_k): log probability of
            each sample. Note that the summation dimension is not kept
    """
    ################################################################################
    # TODO: Modify/complete the code here
    ################################################################################
    ### START CODE HERE ###
    log_prob = -0.5 * torch.log(2 * torch.pi * v) - (x - m) ** 2 / (2 * v)
    return torch.sum(log_prob, dim=-1)
    ### END CODE HERE ###
    ################################################################################
    # End of code modification
    ################################################################################
    raise NotImplementedError


def log_normal_mixture(z, m, v):
    """
    Computes log probability of Gaussian mixture.

    Args:
        z: tensor: (batch, dim): Observations
        m: tensor: (batch, mix, dim): Mixture means
        v: tensor: (batch, mix, dim): Mixture variances

    Return:
        log_prob: tensor: (batch,): log probability of each sample
    """
    ################################################################################
    # TODO: Modify/complete the code here
    ################################################################################
    ### START CODE HERE ###
    log_probs = log_normal(z[:, None, :], m, v) # (batch, mix)
    return log_mean_exp(log_probs, dim=1)
    ### END CODE HERE ###
    ################################################################################
    # End of code modification
    ################################################################################
    raise NotImplementedError


def gaussian_parameters(h, dim=-1):
    m, h = torch.split(h, h.size(dim) // 2, dim=dim)
    v = F.softplus(h) + 1e-8
    return m, v


def log_bernoulli_with_logits(x, logits):
    bce = torch.nn.BCEWithLogitsLoss(reduction='none')
    log_prob = -bce(input=logits, target=x).sum(-1)
    return log_prob


def kl_cat(q, log_q, log_p):
    element_wise = (q * (log_q - log_p))
    kl = element_wise.sum(-1)
    return kl


def kl_normal(qm, qv, pm, pv):
    element_wise = 0.5 * (torch.log(pv) - torch.log(qv) + qv / pv + (qm - pm).pow(2) / pv - 1)
    kl = element_wise.sum(-1)
    return kl


def duplicate(x, rep):
    return x.expand(rep, *x.shape).reshape(-1, *x.shape[1:]).to(x.device)


def log_mean_exp(x, dim):
    return log_sum_exp(x, dim) - np.log(x.size(dim))


def log_sum_exp(x, dim=0):
    max_x = torch.max(x, dim)[0]
    new_x = x - max_x.unsqueeze(dim).expand_as(x)
    return max_x + (new_x.exp().sum(dim)).log()


def load_model_by_name(model, global_step, device=None):
    file_path = os.path.join('checkpoints', model.name, 'model-{:05d}.pt'.format(global_step))
    state = torch.load(file_path, map_location=device)
    model.load_state_dict(state)
    print("Loaded from {}".format(file_path))


################################################################################
# No need to read the code below
################################################################################

def write_to_file(values, name):
    # the results that the course's grader reads back, saved next to this file
    with open(os.path.join(os.path.dirname(__file__), name + '.pkl'), 'wb') as f:
        pickle.dump({k: (v.to('cpu') if isinstance(v, torch.Tensor) else v) for k, v in values.items()}, f)


def evaluate_lower_bound(model, labeled_test_subset, run_iwae=True):
    assert isinstance(model, VAE) or isinstance(model, GMVAE), "only for VAE and GMVAE"
    xl, _ = labeled_test_subset
    xl = torch.bernoulli(xl)

    def compute_metrics(fn, repeat):
        metrics = [0, 0, 0]
        for _ in range(repeat):
            values = [t.detach() for t in fn(xl)]
            for i in range(3):
                metrics[i] += values[i] / repeat
        return metrics

    nelbo, kl, rec = compute_metrics(model.negative_elbo_bound, 100)
    write_to_file({'NELBO': nelbo, 'KL': kl, 'Rec': rec}, model.__class__.__name__)
    print("NELBO: {}. KL: {}. Rec: {}".format(nelbo, kl, rec))
    if run_iwae:
        for iw in [1, 10, 100, 1000]:
            repeat = max(100 // iw, 1)
            niwae, kl, rec = compute_metrics(lambda x: model.negative_iwae_bound(x, iw), repeat)
            write_to_file({'NIWAE': niwae}, '{}_iwae_{}'.format(model.__class__.__name__, iw))
            print("Negative IWAE-{}: {}".format(iw, niwae))


def evaluate_classifier(model, gw, test_set):
    assert isinstance(model, SSVAE), "only for SSVAE"
    X, y = test_set
    pred = model.cls(X)
    accuracy = (pred.argmax(1) == y).float().mean().to("cpu")
    write_to_file({'accuracy': accuracy}, '{}_{}'.format(model.__class__.__name__, gw))
    print("Test set classification accuracy: {}".format(accuracy))


def save_model_by_name(model, global_step):
    save_dir = os.path.join('checkpoints', model.name)
    if not os.path.exists(save_dir):
        os.makedirs(save_dir)
    file_path = os.path.join(save_dir, 'model-{:05d}.pt'.format(global_step))
    torch.save(model.state_dict(), file_path)
    print('Saved to {}'.format(file_path))


def prepare_writer(model_name, overwrite_existing=True):
    for path in (os.path.join('logs', model_name), os.path.join('checkpoints', model_name)):
        if os.path.exists(path) and overwrite_existing:
            shutil.rmtree(path)
    return None


def log_summaries(writer, summaries, global_step):
    pass


def get_mnist_data(device, batch_size, use_test_subset=True):
    preprocess = transforms.ToTensor()
    train_loader = torch.utils.data.DataLoader(
        datasets.MNIST('data', train=True, download=True, transform=preprocess),
        batch_size=batch_size,
        shuffle=True)
    test_set = datasets.MNIST('data', train=False, download=True, transform=preprocess)
    X_test = test_set.data.to(device).reshape(-1, 784).float() / 255
    y_test = test_set.targets.to(device)
    picks = torch.cat([torch.nonzero(y_test == i)[:10, 0] for i in range(10)])
    xl = torch.bernoulli(X_test[picks], generator=torch.Generator().manual_seed(0))
    yl = F.one_hot(y_test[picks], 10).float()
    return train_loader, (xl, yl), (X_test, y_test)
