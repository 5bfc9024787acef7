"""Train and evaluate the VAE (problems 1 and 3): python run_vae.py --train 2"""

from codebase import utils as ut
from codebase.models.vae import VAE
from codebase.train import base_parser, start, train

from coursekit.images import save_grid


def main():
    p = base_parser(__doc__, iter_max=20000)
    p.add_argument("--z", type=int, default=10, help="number of latent dimensions")
    p.add_argument(
        "--train",
        type=int,
        default=1,
        help="1: train + ELBO; 2: train + ELBO + IWAE; 0: load + ELBO + IWAE",
    )
    args = p.parse_args()
    name, data = start(args, {"model": "vae", "z": args.z})
    vae = VAE(z_dim=args.z, name=name)
    if args.train:
        ut.delete_existing(vae, args.overwrite)
        train(vae, data, iter_max=args.iter_max, iter_save=args.iter_save)
    else:
        ut.load_model_by_name(vae, global_step=args.iter_max)
    path = save_grid(vae.sample_sigmoid(200).reshape(200, 1, 28, 28), f"samples/{name}.png", 10, 20)
    print(f"Saved 200 samples to {path}")
    ut.evaluate_lower_bound(
        vae, data.test_subset_x, run_iwae=args.train != 1, repeats=2 if args.dry_run else 100
    )


if __name__ == "__main__":
    main()
