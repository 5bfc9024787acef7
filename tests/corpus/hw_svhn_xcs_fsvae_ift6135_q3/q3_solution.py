"""
Question 3: WGAN-LP on SVHN.
"""
import argparse
import os

import numpy as np
import torch
from torch import optim
from torchvision import utils

import q2_solution
from q3_model import Critic, Generator


def critic_loss(critic, real, fake, lp_coeff):
    # the critic maximises the Wasserstein estimate minus the Lipschitz penalty
    real = real.view(real.size(0), -1)
    fake = fake.view(fake.size(0), -1)
    wd = q2_solution.vf_wasserstein_distance(real, fake, critic)
    lp = q2_solution.lp_reg(real, fake, critic)
    return -wd + lp_coeff * lp


def generator_loss(critic, fake):
    return -torch.mean(critic(fake))


def interpolations(generator, z0, z1, alphas):
    generator.eval()
    with torch.no_grad():
        latent, data = [], []
        x0 = generator(z0.unsqueeze(0))
        x1 = generator(z1.unsqueeze(0))
        for a in alphas:
            latent.append(generator((a * z0 + (1 - a) * z1).unsqueeze(0)))
            data.append(a * x0 + (1 - a) * x1)
    return torch.cat(latent), torch.cat(data)


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--model_path', type=str, default='q3_results/wgan.pt')
    parser.add_argument('--z_dim', type=int, default=100)
    args = parser.parse_args()
    generator = Generator(z_dim=args.z_dim)
    generator.load_state_dict(torch.load(args.model_path, map_location='cpu'))
    z0, z1 = torch.randn(args.z_dim), torch.randn(args.z_dim)
    latent, data = interpolations(generator, z0, z1, torch.linspace(0, 1, 11))
    os.makedirs('q3_results', exist_ok=True)
    utils.save_image(torch.cat([latent, data]) * 0.5 + 0.5, 'q3_results/interpolations.png', nrow=11)
