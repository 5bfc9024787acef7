import argparse
import torch
import tqdm
from submission import utils as ut
from submission.models.vae import VAE
from submission.train import train

parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
parser.add_argument('--model', type=str, default='vae', help="vae, gmvae or ssvae")
parser.add_argument('--z', type=int, default=10, help="Number of latent dimensions")
parser.add_argument('--iter_max', type=int, default=20000, help="Number of training iterations")
parser.add_argument('--train', type=int, default=1, help="Flag for training")

if __name__ == '__main__':
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(args)
