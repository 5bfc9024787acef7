"""Train and evaluate the GMVAE (problems 2 and 3.4): python run_gmvae.py --train 2"""

from codebase import utils as ut
from codebase.models.gmvae import GMVAE
from codebase.train import base_parser, start, train

from coursekit.images import save_grid


def main():
    p = base_parser(__doc__, iter_max=20000)
    p.add_argument("--z", type=int, default=10, help="number of latent dimensions")
    p.add_argument("--k", type=int, default=500, help="number of mixture components")
    p.add_argument(
        "--train",
        type=int,
        default=1,
        help="1: train + ELBO; 2: train + ELBO + IWAE; 0: load + ELBO + IWAE",
    )
    args = p.parse_args()
    name, data = start(args, {"model": "gmvae", "z": args.z, "k": args.k})
    gmvae = GMVAE(z_dim=args.z, k=args.k, name=name)
    if args.train:
        ut.delete_existing(gmvae, args.overwrite)
        train(gmvae, data, iter_max=args.iter_max, iter_save=args.iter_save)
    else:
        ut.load_model_by_name(gmvae, global_step=args.iter_max)
    path = save_grid(
        gmvae.sample_sigmoid(200).reshape(200, 1, 28, 28), f"samples/{name}.png", 10, 20
    )
    print(f"Saved 200 samples to {path}")
    ut.evaluate_lower_bound(
        gmvae, data.test_subset_x, run_iwae=args.train != 1, repeats=2 if args.dry_run else 100
    )


if __name__ == "__main__":
    main()
