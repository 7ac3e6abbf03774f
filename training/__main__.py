"""``python -m training {train,rollback,activate,list,predict}`` (Rasa env).

    train     validate, train the Rasa model and build the semantic index into models/archive/,
              evaluate both end to end on the held-out split, record them as one version in
              models/registry.json, and make it live unless it is worse than the live version
    rollback  make the previously live model live again
    activate  make a registered model live by hand (e.g. one the gate refused)
    list      the registered models with their metrics and status
    predict   how the live model routes messages (one JSON line each)

Activation also hot-swaps a running Rasa server when $RASA_URL and $RASA_API_TOKEN are set; the
action server picks up the live version's index from the registry by itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.model_registry import RegistryError
from training.settings import SettingsError, actions_python


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m training",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[-1],
    )
    commands = main.add_subparsers(dest="command", required=True)

    def with_models(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--models", type=Path, default=Path("models"), help="models folder")
        return sub

    train = with_models("train", "train, evaluate, gate, record, activate")
    train.add_argument("--config", type=Path, default=Path("rasa_project/config.yml"))
    train.add_argument("--domain", type=Path, default=Path("rasa_project/domain"))
    train.add_argument("--data", type=Path, nargs="+", default=[Path("data/nlu"), Path("data/rules")])
    train.add_argument("--heldout", type=Path, default=Path("data/heldout"))
    train.add_argument("--force", action="store_true", help="train even if this data and config were trained")
    train.add_argument("--strict", action="store_true", help="exit code 3 when the gate refuses")
    train.add_argument(
        "--actions-python", help="the actions env's Python (default $TANYAVAKSIN_ACTIONS_PYTHON)"
    )
    train.add_argument("--report", type=Path, default=Path("reports/gate.md"), help="the gate's report file")
    with_models("rollback", "make the previously live model live again")
    activate = with_models("activate", "make a registered model live by hand")
    activate.add_argument("model_id")
    with_models("list", "registered models, metrics, status")
    predict = with_models("predict", "route messages with the live model (JSON lines)")
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from training import trainer  # after parsing, so --help stays quick

    try:
        if args.command == "train":
            options = trainer.TrainOptions(
                config=args.config,
                domain=args.domain,
                data=list(args.data),
                heldout=args.heldout,
                models=args.models,
                force=args.force,
                strict=args.strict,
                actions_python=actions_python(args.actions_python),
                report=args.report,
            )
            return trainer.train(options)
        if args.command == "rollback":
            return trainer.rollback(args.models)
        if args.command == "activate":
            return trainer.activate(args.models, args.model_id)
        if args.command == "list":
            return trainer.list_models(args.models)
        return trainer.predict(args.models, args.texts)
    except (RegistryError, SettingsError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
