"""The demo challenge: Fashion-MNIST's 10,000 test images if installed, else scikit-learn's digits.

Idempotent: re-running keeps the imported set, the edition and the account as they are, and
makes the challenge's reported results the shipped file for its data set (Fashion-MNIST's
published benchmark; none for the digits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.utils import timezone

from leaderboard import services
from leaderboard.evaluation.datasets import InputSpec, compiled_set_present
from leaderboard.management.importing import import_into_challenge
from leaderboard.metrics import TOP5, metric_get
from leaderboard.models import Challenge
from leaderboard.services.challenges import challenge_metric_by_classes
from leaderboard.services.references import FASHION_MNIST_REPORTED_CSV
from leaderboard.services.robustness import challenge_robustness_enable

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
SLUG = "demo"


class Command(BaseCommand):
    help = "Create the demo challenge, its edition for this year and a demo account."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", type=Path, default=FASHION_MNIST)
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password")
        parser.add_argument("--reimport", action="store_true", help="Import the test set again.")
        parser.add_argument(
            "--no-robustness",
            action="store_true",
            help="Leave the robustness track off (on by default: its copies take seconds).",
        )

    def handle(self, *args, **options) -> None:
        source, title, description, spec, names, reported_csv = self._pick_source(options["source"])
        challenge, _ = services.challenge_get_or_create(
            slug=SLUG, title=title, description=description
        )
        if options["reimport"] or not _has_dataset(challenge):
            names_file = Path(settings.DATA_ROOT) / "sources" / SLUG / "class_names.txt"
            names_file.parent.mkdir(parents=True, exist_ok=True)
            names_file.write_text("\n".join(names) + "\n", encoding="utf-8")
            import_options = {
                "source": source,
                "fmt": "idx" if source == options["source"] else "npz",
                "public_fraction": 0.5,
                "seed": 0,
                "class_names": names_file,
                "skip_bad": False,
                "samples_per_class": 2,
                "verbosity": options["verbosity"],
            }
            import_into_challenge(
                challenge=challenge, options=import_options, spec=spec, write=self.stdout.write
            )
        else:
            self.stdout.write(f"test set already imported: {challenge.dataset_path}")
        # Ten classes rank by top-1 error (top-5 of 10 is nearly always right); a demo created
        # when top-5 was every challenge's default moves over on the next run.
        if challenge_metric_by_classes(challenge=challenge, replacing=TOP5.key):
            self.stdout.write(f"ranked by {metric_get(challenge.primary_metric).label.lower()}")
        edition, created = services.edition_get_or_create(
            challenge=challenge,
            year=timezone.now().year,
            daily_limit=20,
            total_limit=200,
            max_upload_mb=200,
        )
        self.stdout.write(f"{'created' if created else 'found'} edition {edition}")
        if not options["no_robustness"]:
            setup = challenge_robustness_enable(challenge=challenge)
            self.stdout.write(
                f"robustness track on: {len(setup.names)} transformed copies of the test set"
            )
        # The starting kit's example model: the LeNet-5 baseline once seed_baselines has
        # entered it (make run starts that after this command), exported once if safetensors.
        self.stdout.write(services.kit_example_prepare(challenge=challenge).message)
        # Reported results belong to the data set they were measured on: Fashion-MNIST's
        # published benchmark for Fashion-MNIST, none for the digits. Rows of another file
        # (the ILSVRC series an older demo was given) are taken away.
        reported = services.reference_results_set(challenge=challenge, path=reported_csv)
        self.stdout.write(
            f"reported results on {title}: {reported.created} added, {reported.updated} kept, "
            f"{reported.deleted} removed"
        )
        user, created = get_user_model().objects.get_or_create(username=options["username"])
        if created:
            user.set_password(options["password"])
            # A verified address, so that the demo's own mail (a scored upload, an
            # announcement) lands where `make run` writes mail, and its account page is whole.
            user.email = f"{user.username}@example.org"
            user.save(update_fields=["password", "email"])
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
            self.stdout.write(f"account {user.username} / {options['password']} ({user.email})")
        else:
            self.stdout.write(f"account {user.username} exists (password unchanged)")
        # The demo account hosts: it may create challenges and editions from the browser.
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="leaderboard",
                codename__in=["add_challenge", "add_edition"],
            )
        )
        self.stdout.write(self.style.SUCCESS(edition.get_absolute_url()))

    def _pick_source(
        self, fashion: Path
    ) -> tuple[Path, str, str, InputSpec, list[str], Path | None]:
        """The set's files, title, description, input, class names and reported results."""
        if (fashion / "t10k-images-idx3-ubyte.gz").is_file() or (
            fashion / "t10k-images-idx3-ubyte"
        ).is_file():
            self.stdout.write(f"using Fashion-MNIST from {fashion} (10,000 test images)")
            spec = InputSpec(channels=1, height=28, width=28, mean=(0.2860,), std=(0.3530,))
            description = (
                "Classify 28x28 greyscale photos of clothing into 10 classes "
                "(Fashion-MNIST, Zalando Research). The 10,000 test images are the hidden set. "
                "This is a demonstration: Fashion-MNIST is public, labels included, so anyone "
                "can look the answers up outside this site. Models never can: the scoring "
                "sandbox holds no labelled copy of the set. A real contest uses a hidden set "
                "that exists nowhere else."
            )
            return (
                fashion,
                "Fashion-MNIST",
                description,
                spec,
                FASHION_CLASSES,
                FASHION_MNIST_REPORTED_CSV,
            )
        self.stdout.write(
            f"Fashion-MNIST not found at {fashion}; using scikit-learn's bundled digits "
            "(8x8 images scaled to 28x28)"
        )
        source = _write_digits(Path(settings.DATA_ROOT) / "sources" / "digits")
        spec = InputSpec(channels=1, height=28, width=28)
        description = (
            "Classify handwritten digits (scikit-learn's bundled 8x8 digits, scaled to 28x28). "
            "797 images form the hidden test set. This is a demonstration: the digits ship "
            "with scikit-learn, labels included, so anyone can look the answers up outside "
            "this site. Models never can: the scoring sandbox holds no labelled copy of the set."
        )
        return source, "Digits", description, spec, [str(i) for i in range(10)], None


def _has_dataset(challenge: Challenge) -> bool:
    return compiled_set_present(challenge.dataset_dir)


def _write_digits(folder: Path) -> Path:
    """Split the 1,797 digits (seeded) into train.npz (1,000) and test.npz (797) once."""
    from sklearn.datasets import load_digits

    if (folder / "test.npz").is_file() and (folder / "train.npz").is_file():
        return folder
    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:1000], order[1000:]
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "train.npz", images=images[train], labels=labels[train])
    np.savez(folder / "test.npz", images=images[test], labels=labels[test])
    return folder
