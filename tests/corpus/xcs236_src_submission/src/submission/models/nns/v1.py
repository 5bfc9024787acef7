import torch
import os
script_directory = os.path.dirname(os.path.abspath(__file__))

if 'solution' in script_directory:
    from solution import utils as ut
else:
    from submission import utils as ut

from torch import nn

class Encoder(nn.Module):
    def __init__(self, z_dim, y_dim=0):
        super().__init__()
        self.z_dim = z_dim
        self.y_dim = y_dim
        self.net = nn.Sequential(
            nn.Linear(784 + y_dim, 300), nn.ELU(),
            nn.Linear(300, 300), nn.ELU(),
            nn.Linear(300, 2 * z_dim),
        )

    def forward(self, x, y=None):
        xy = x if y is None else torch.cat((x, y), dim=1)
        return ut.gaussian_parameters(self.net(xy), dim=1)

class Decoder(nn.Module):
    def __init__(self, z_dim, y_dim=0):
        super().__init__()
        self.z_dim = z_dim
        self.y_dim = y_dim
        self.net = nn.Sequential(
            nn.Linear(z_dim + y_dim, 300), nn.ELU(),
            nn.Linear(300, 300), nn.ELU(),
            nn.Linear(300, 784),
        )

    def forward(self, z, y=None):
        zy = z if y is None else torch.cat((z, y), dim=1)
        return self.net(zy)

class Classifier(nn.Module):
    def __init__(self, y_dim):
        super().__init__()
        self.y_dim = y_dim
        self.net = nn.Sequential(
            nn.Linear(784, 300), nn.ReLU(),
            nn.Linear(300, 300), nn.ReLU(),
            nn.Linear(300, y_dim),
        )

    def forward(self, x):
        return self.net(x)
