"""Train the SSVAE and report its test accuracy (problem 4): python run_ssvae.py --gw 1"""

from codebase import utils as ut
from codebase.models.ssvae import SSVAE
from codebase.train import base_parser, start, train


def main():
    p = base_parser(__doc__, iter_max=30000)
    p.add_argument("--gw", type=int, default=1, help="weight on the generative term (ELBO)")
    p.add_argument("--cw", type=int, default=100, help="weight on the classification term")
    p.add_argument("--train", type=int, default=1, help="1: train then test; 0: load then test")
    args = p.parse_args()
    name, data = start(args, {"model": "ssvae", "gw": f"{args.gw:03d}", "cw": f"{args.cw:03d}"})
    ssvae = SSVAE(gen_weight=args.gw, class_weight=args.cw, name=name)
    if args.train:
        ut.delete_existing(ssvae, args.overwrite)
        train(ssvae, data, iter_max=args.iter_max, iter_save=args.iter_save, y_status="semisup")
    else:
        ut.load_model_by_name(ssvae, global_step=args.iter_max)
    ut.evaluate_classifier(ssvae, data.test_x, data.test_y)


if __name__ == "__main__":
    main()
